package io.driftagent.agent.capture;

import io.driftagent.agent.attribution.CapturedContainer;
import io.driftagent.agent.attribution.CapturedContainers;
import io.driftagent.agent.attribution.CgroupIdentity;
import io.driftagent.agent.attribution.ContainerFilesystems;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.source.ExecEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The containers captured at their appearance, kept after they are gone: bounded, and each kept for a grace period
 * after its rootfs was unmounted (its last execs are still queued in the pipeline then), so a container that lived
 * 100 ms is attributed and classified like one that lives for days.
 *
 * <p>An exec is matched by its cgroup id (unique for the life of the host: the kernel never reuses one), else by its
 * mount namespace, else by its overlay's device. Namespace inodes and anonymous device numbers are reused as soon as
 * they are freed, so those two matches take the capture whose life contains the exec's time: of those not gone before
 * it, the one that appeared last before it (or, when the watcher saw the mount only after the exec, the first after;
 * by the device only within {@link #SEEN_LATE_NANOS} of the exec: a capture that appeared later held the device at
 * another time, after an overlay that may be no container's). An exec whose source says its overlay device does not
 * tell its container ({@link ExecEvent.Flags#overlayOwnerDoubtful()}) is never matched by the device.
 * Times are CLOCK_MONOTONIC nanoseconds, the clock of {@link ExecEvent#timestampNs()}. Thread-safe.
 */
public final class ContainerCaptureRegistry implements CapturedContainers {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerCaptureRegistry.class);

    /**
     * How much later than an exec a container's appearance may have been timed and still be the exec's by its
     * device. The fanotify source times an exec within its overlay's life as the same mount table change told it
     * (each listener reads its own clock: microseconds to milliseconds apart); an exec on a device with no life known
     * is timed at its read, after any appearance. A capture that appeared later held the device after the exec's
     * overlay, which may have been no container's (an overlay mounted by hand): not the exec's.
     */
    static final long SEEN_LATE_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(250);

    private final int capacity;
    private final long graceNanos;
    private final LongSupplier nanoClock;
    /** Insertion-ordered: the oldest capture first. */
    private final LinkedHashMap<String, Entry> byKey = new LinkedHashMap<>();
    private final Map<Long, Entry> byCgroupId = new HashMap<>();
    private final Map<ContainerId, Entry> byId = new HashMap<>();
    private final Counts counts = new Counts();
    private final List<java.util.function.LongConsumer> goneListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param capacity   most captures kept; beyond it the oldest gone one, else the oldest, is evicted (counted)
     * @param grace      how long a capture is kept after its container's rootfs was unmounted
     * @param nanoClock  CLOCK_MONOTONIC nanoseconds ({@code System::nanoTime})
     */
    public ContainerCaptureRegistry(int capacity, Duration grace, LongSupplier nanoClock) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.graceNanos = grace.toNanos();
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /** 4096 containers, each kept 120 s after it is gone. */
    public static ContainerCaptureRegistry withDefaults() {
        return new ContainerCaptureRegistry(4096, Duration.ofSeconds(120), System::nanoTime);
    }

    /**
     * A container's rootfs was mounted (first sight): what is known of it at once.
     *
     * @param key        the mount, unique while it is mounted (mount id and mount point)
     * @param identity   who it is (from its bundle's cgroup path and annotations until its process is read)
     * @param root       its root overlay's layers, from the host's mount table
     * @param annotations its bundle's OCI annotations
     */
    public synchronized void appeared(String key, CgroupIdentity identity, OverlayRoot root,
                                      Map<String, String> annotations) {
        appeared(key, identity, root, annotations, nanoClock.getAsLong());
    }

    /** As {@link #appeared(String, CgroupIdentity, OverlayRoot, Map)}, mounted at {@code atNanos} (as the kernel told). */
    public synchronized void appeared(String key, CgroupIdentity identity, OverlayRoot root,
                                      Map<String, String> annotations, long atNanos) {
        Entry known = byKey.get(key);
        if (known != null) {
            if (known.goneAtNanos >= 0) {
                known.goneAtNanos = -1; // mounted again under the same id and path: not gone after all
            }
            return;
        }
        expire();
        while (byKey.size() >= capacity) {
            evictOne();
        }
        Entry entry = new Entry(key, identity, root, Map.copyOf(annotations), atNanos);
        byKey.put(key, entry);
        byId.put(identity.id(), entry);
        counts.appeared++;
    }

    /** What the container's first process showed: its cgroup (id), mount namespace and mounts. */
    public synchronized void completed(String key, CgroupIdentity identity, long cgroupId, long mountNs,
                                       List<ContainerMount> mounts) {
        Entry entry = byKey.get(key);
        if (entry == null) {
            return;
        }
        entry.identity = identity;
        byId.put(identity.id(), entry);
        if (cgroupId != 0) {
            entry.cgroupId = cgroupId;
            byCgroupId.put(cgroupId, entry);
        }
        entry.mountNs = mountNs;
        entry.mounts = List.copyOf(mounts);
        counts.completed++;
    }

    /**
     * Tells {@code listener} the mount namespace (its inode number) of each container whose rootfs is unmounted from
     * now on, when its first process was read (write tracking forgets the container's files then). Called under this
     * registry's lock: the listener must not call back into it.
     */
    public void addGoneListener(java.util.function.LongConsumer listener) {
        goneListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** The container's rootfs was unmounted: it is kept for the grace period from now. */
    public synchronized void gone(String key) {
        gone(key, nanoClock.getAsLong());
    }

    /** As {@link #gone(String)}, unmounted at {@code atNanos} (as the kernel told). */
    public synchronized void gone(String key, long atNanos) {
        Entry entry = byKey.get(key);
        if (entry != null && entry.goneAtNanos < 0) {
            entry.goneAtNanos = atNanos;
            counts.gone++;
            if (entry.mountNs != 0) {
                for (java.util.function.LongConsumer listener : goneListeners) {
                    listener.accept(entry.mountNs);
                }
            }
        }
        expire();
    }

    /** Forgets captures gone longer than the grace period. */
    public synchronized void expire() {
        long now = nanoClock.getAsLong();
        for (Iterator<Entry> it = byKey.values().iterator(); it.hasNext(); ) {
            Entry entry = it.next();
            if (entry.goneAtNanos >= 0 && now - entry.goneAtNanos >= graceNanos) {
                it.remove();
                unindex(entry);
                counts.expired++;
            }
        }
    }

    @Override
    public synchronized Optional<CapturedContainer> find(ExecEvent event) {
        if (event.cgroupId() != 0) {
            Entry exact = byCgroupId.get(event.cgroupId());
            if (exact != null) {
                counts.foundByCgroupId++;
                return Optional.of(exact.snapshot());
            }
        }
        long at = event.timestampNs();
        if (event.mountNsId() != 0) {
            Optional<Entry> byNs = alive(at, e -> e.mountNs == event.mountNsId());
            if (byNs.isPresent()) {
                counts.foundByMountNs++;
                return Optional.of(byNs.get().snapshot());
            }
        }
        long dev = event.file().dev();
        if (event.flags().overlay() && dev != 0 && !event.flags().overlayOwnerDoubtful()) {
            Optional<Entry> byDev = alive(at, SEEN_LATE_NANOS, e -> e.root.mount().dev() == dev);
            if (byDev.isPresent()) {
                counts.foundByDev++;
                return Optional.of(byDev.get().snapshot());
            }
        }
        counts.notFound++;
        return Optional.empty();
    }

    @Override
    public synchronized Optional<CapturedContainer> byId(ContainerId id) {
        Entry entry = byId.get(id);
        return entry == null ? Optional.empty() : Optional.of(entry.snapshot());
    }

    /** How many containers are captured now. */
    public synchronized int size() {
        return byKey.size();
    }

    /** Counters by event: appeared, completed, gone, expired, evicted, found_cgroup_id, found_mount_ns, found_dev, not_found. */
    public synchronized Map<String, Long> stats() {
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("appeared", counts.appeared);
        stats.put("completed", counts.completed);
        stats.put("gone", counts.gone);
        stats.put("expired", counts.expired);
        stats.put("evicted", counts.evicted);
        stats.put("found_cgroup_id", counts.foundByCgroupId);
        stats.put("found_mount_ns", counts.foundByMountNs);
        stats.put("found_dev", counts.foundByDev);
        stats.put("not_found", counts.notFound);
        return stats;
    }

    /** Of the captures matching, those not gone before {@code at}: the last that appeared by then, else the first after. */
    private Optional<Entry> alive(long at, java.util.function.Predicate<Entry> matches) {
        return alive(at, Long.MAX_VALUE, matches);
    }

    /** As {@link #alive(long, java.util.function.Predicate)}, the first after only if it appeared within {@code lateNanos}. */
    private Optional<Entry> alive(long at, long lateNanos, java.util.function.Predicate<Entry> matches) {
        Entry lastBefore = null;
        Entry firstAfter = null;
        for (Entry entry : byKey.values()) {
            if (!matches.test(entry) || entry.goneAtNanos >= 0 && entry.goneAtNanos < at) {
                continue;
            }
            if (entry.appearedAtNanos <= at) {
                if (lastBefore == null || entry.appearedAtNanos >= lastBefore.appearedAtNanos) {
                    lastBefore = entry;
                }
            } else if (entry.appearedAtNanos - at <= lateNanos
                    && (firstAfter == null || entry.appearedAtNanos < firstAfter.appearedAtNanos)) {
                firstAfter = entry;
            }
        }
        return Optional.ofNullable(lastBefore != null ? lastBefore : firstAfter);
    }

    private void evictOne() {
        Entry victim = null;
        for (Entry entry : byKey.values()) {
            if (entry.goneAtNanos >= 0) {
                victim = entry;
                break;
            }
        }
        if (victim == null) {
            victim = byKey.values().iterator().next();
        }
        byKey.remove(victim.key);
        unindex(victim);
        counts.evicted++;
        LOG.warn("container capture of {} evicted: more than {} containers captured (drift.capture.containers"
                + "{{event=\"evicted\"}}); its late execs fall back on /proc", victim.identity.id(), capacity);
    }

    private void unindex(Entry entry) {
        if (entry.cgroupId != 0) {
            byCgroupId.remove(entry.cgroupId, entry);
        }
        byId.remove(entry.identity.id(), entry);
    }

    private static final class Counts {
        long appeared;
        long completed;
        long gone;
        long expired;
        long evicted;
        long foundByCgroupId;
        long foundByMountNs;
        long foundByDev;
        long notFound;
    }

    /** One capture; guarded by the registry's lock. */
    private static final class Entry {
        final String key;
        final OverlayRoot root;
        final Map<String, String> annotations;
        final long appearedAtNanos;
        CgroupIdentity identity;
        long cgroupId;
        long mountNs;
        List<ContainerMount> mounts = List.of();
        long goneAtNanos = -1;

        Entry(String key, CgroupIdentity identity, OverlayRoot root, Map<String, String> annotations,
              long appearedAtNanos) {
            this.key = key;
            this.identity = identity;
            this.root = root;
            this.annotations = annotations;
            this.appearedAtNanos = appearedAtNanos;
        }

        CapturedContainer snapshot() {
            List<ContainerMount> others = new ArrayList<>(mounts.size());
            for (ContainerMount mount : mounts) {
                if (!mount.mountPoint().equals("/")) {
                    others.add(mount);
                }
            }
            return new CapturedContainer(identity, cgroupId, new ContainerFilesystems(Optional.of(root), others), annotations,
                    goneAtNanos >= 0);
        }
    }
}
