package io.driftagent.agent.metadata.kubernetes;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Container id -> workload metadata for the pods of this node, plus a grace cache of departed containers (deleted
 * pods, replaced container instances) kept for {@code grace} so that an exec observed just before a deletion is
 * still attributed. Written by one thread (the informer's), read by any: lookups are lock-free map reads.
 */
final class ContainerIndex {
    private record Departed(WorkloadMetadata metadata, Instant expiresAt) {
    }

    private record PodEntry(WorkloadMetadata podMetadata, Set<ContainerId> containers) {
    }

    private final Clock clock;
    private final Duration grace;
    private final Map<ContainerId, WorkloadMetadata> live = new ConcurrentHashMap<>();
    private final Map<ContainerId, Departed> departed = new ConcurrentHashMap<>();
    private final Map<String, PodEntry> podsByUid = new ConcurrentHashMap<>();
    private final Map<String, Departed> departedPods = new ConcurrentHashMap<>();
    private final BiConsumer<ContainerId, WorkloadMetadata> onIndexed;

    ContainerIndex(Clock clock, Duration grace, BiConsumer<ContainerId, WorkloadMetadata> onIndexed) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.grace = Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative: " + grace);
        }
        this.onIndexed = Objects.requireNonNull(onIndexed, "onIndexed");
    }

    /** Records the pod's current containers; containers it no longer has move to the grace cache. */
    void upsert(String podUid, WorkloadMetadata podMetadata, List<IndexedContainer> containers) {
        Set<ContainerId> now = new HashSet<>();
        for (IndexedContainer container : containers) {
            now.add(container.id());
            live.put(container.id(), container.metadata());
            departed.remove(container.id());
        }
        departedPods.remove(podUid);
        PodEntry previous = podsByUid.put(podUid, new PodEntry(podMetadata, Set.copyOf(now)));
        if (previous != null) {
            Instant expiry = clock.instant().plus(grace);
            for (ContainerId gone : previous.containers()) {
                if (!now.contains(gone)) {
                    depart(gone, expiry);
                }
            }
        }
        for (IndexedContainer container : containers) {
            onIndexed.accept(container.id(), container.metadata());
        }
        purgeExpired();
    }

    /** The pod is gone: its containers and pod-level entry stay answerable for the grace period. */
    void remove(String podUid) {
        PodEntry previous = podsByUid.remove(podUid);
        if (previous != null) {
            Instant expiry = clock.instant().plus(grace);
            previous.containers().forEach(id -> depart(id, expiry));
            departedPods.put(podUid, new Departed(previous.podMetadata(), expiry));
        }
        purgeExpired();
    }

    private void depart(ContainerId id, Instant expiry) {
        WorkloadMetadata metadata = live.remove(id);
        if (metadata != null) {
            departed.put(id, new Departed(metadata, expiry));
        }
    }

    Optional<WorkloadMetadata> lookup(ContainerId id) {
        WorkloadMetadata metadata = live.get(id);
        if (metadata != null) {
            return Optional.of(metadata);
        }
        return unexpired(departed.get(id));
    }

    Optional<WorkloadMetadata> lookupPod(String podUid) {
        PodEntry entry = podsByUid.get(podUid);
        if (entry != null) {
            return Optional.of(entry.podMetadata());
        }
        return unexpired(departedPods.get(podUid));
    }

    private Optional<WorkloadMetadata> unexpired(Departed entry) {
        if (entry == null || !clock.instant().isBefore(entry.expiresAt())) {
            return Optional.empty();
        }
        return Optional.of(entry.metadata());
    }

    /** Drops departed entries whose grace ran out; called on every change and by the informer's periodic tick. */
    void purgeExpired() {
        Instant now = clock.instant();
        departed.values().removeIf(d -> !now.isBefore(d.expiresAt()));
        departedPods.values().removeIf(d -> !now.isBefore(d.expiresAt()));
    }

    int liveContainers() {
        return live.size();
    }

    int departedContainers() {
        return departed.size();
    }
}
