package io.driftagent.agent.metadata;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Per-container cache of runtime lookups: hits are kept (a container's bundle does not change), misses only for a
 * short while (the container may be created a moment later). Least recently used entries go beyond {@code capacity}.
 */
public final class LookupCache {
    private record Entry(Optional<WorkloadMetadata> value, Instant expiresAt) {
    }

    private final Clock clock;
    private final Duration missTtl;
    private final Map<ContainerId, Entry> entries;

    public LookupCache(Clock clock, Duration missTtl, int capacity) {
        this.clock = clock;
        this.missTtl = missTtl;
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ContainerId, Entry> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Replaces a cached hit with richer data found later (e.g. by a background lookup). */
    public synchronized void replace(ContainerId id, WorkloadMetadata metadata) {
        entries.put(id, new Entry(Optional.of(metadata), null));
    }

    public synchronized Optional<WorkloadMetadata> get(ContainerId id, Function<ContainerId, Optional<WorkloadMetadata>> load) {
        Instant now = clock.instant();
        Entry cached = entries.get(id);
        if (cached != null && (cached.expiresAt() == null || now.isBefore(cached.expiresAt()))) {
            return cached.value();
        }
        Optional<WorkloadMetadata> loaded = load.apply(id);
        entries.put(id, new Entry(loaded, loaded.isPresent() ? null : now.plus(missTtl)));
        return loaded;
    }
}
