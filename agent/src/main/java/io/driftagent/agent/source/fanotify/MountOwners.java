package io.driftagent.agent.source.fanotify;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which container's process namespace a mount belongs to, by the mount's id (statx {@code STATX_MNT_ID} of an event's
 * fd is the id of the mount the file was opened through: a container's volume or tmpfs as that container mounted
 * it). Learned by {@link ContainerMountWatcher} from a live process of each new container, so the exec of a process
 * that is gone before its event is read is still tied to its container's cgroup and mount namespace. Bounded: when
 * full it forgets everything and relearns from the containers seen next (a miss is an unattributed exec, counted
 * downstream, never a wrong one).
 */
final class MountOwners {

    /**
     * The cgroup v2 id and mount namespace of the container that owns a mount.
     *
     * @param sinceNanos when the container's rootfs overlay was mounted: an exec before it was another container's
     *                   (mount ids and overlay devices are reused), {@code Long.MIN_VALUE} when unknown
     */
    record Owner(long cgroupId, long mountNsId, long sinceNanos) {
        Owner(long cgroupId, long mountNsId) {
            this(cgroupId, mountNsId, Long.MIN_VALUE);
        }
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MountOwners.class);
    private static final int MAX_MOUNTS = 65_536;
    private final java.util.concurrent.atomic.LongAdder severalLivesFit = new java.util.concurrent.atomic.LongAdder();

    private static final int MAX_LIVES_PER_DEV = 8;
    private static final long LIFE_KEPT_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(120);

    private final Map<Long, Owner> byMountId = new ConcurrentHashMap<>();
    private final Map<Long, Owner> byRootDev = new ConcurrentHashMap<>();
    /** The host mount namespace's mounts now: mount id -> the device mounted there. */
    private volatile Map<Long, Long> hostMounts = Map.of();
    /** Overlay dev -> when overlays with that (reusable, anonymous) device were mounted and unmounted, oldest first. */
    private final Map<Long, java.util.ArrayDeque<long[]>> overlayLives = new java.util.HashMap<>();

    /**
     * The mounts of the host's mount namespace (its mount table just read): an exec whose file was opened through one
     * of them was made by a process of the host's namespace at that moment, whatever /proc says of the process later.
     */
    void hostTable(Map<Long, Long> devByMountId) {
        hostMounts = Map.copyOf(devByMountId);
    }

    /**
     * Whether a file with device {@code dev} opened through mount {@code mountId} was opened in the host's mount
     * namespace. Mount ids are reused once freed, so the mount's device must match too (a stale table can then only
     * say "no", and the exec is attributed from /proc as before).
     */
    boolean hostMount(long mountId, long dev) {
        Long mounted = hostMounts.get(mountId);
        return mounted != null && mounted == dev;
    }

    /** An overlay with device {@code dev} appeared in the host's mount table at {@code nowNanos}. */
    synchronized void overlayMounted(long dev, long nowNanos) {
        java.util.ArrayDeque<long[]> lives = overlayLives.computeIfAbsent(dev, d -> new java.util.ArrayDeque<>());
        long[] last = lives.peekLast();
        if (last != null && last[1] < 0) {
            return; // still mounted (another mount of the same superblock)
        }
        lives.addLast(new long[] {nowNanos, -1L});
        while (lives.size() > MAX_LIVES_PER_DEV) {
            lives.pollFirst();
        }
        overlayLives.values().removeIf(l -> l.peekLast() != null && l.peekLast()[1] >= 0
                && nowNanos - l.peekLast()[1] > LIFE_KEPT_NANOS);
    }

    /** The overlay with device {@code dev} left the host's mount table at {@code nowNanos}. */
    synchronized void overlayUnmounted(long dev, long nowNanos) {
        java.util.ArrayDeque<long[]> lives = overlayLives.get(dev);
        long[] last = lives == null ? null : lives.peekLast();
        if (last != null && last[1] < 0) {
            last[1] = nowNanos;
        }
    }

    /**
     * When an exec happened and in how many lives of its overlay's device it may have.
     *
     * @param nanos        the time taken: in the first life that fits, else the read time
     * @param livesThatFit how many lives (overlays) of the device fit the exec: more than one, and the device does not
     *                     tell whose the exec was (the first is only the likelier: its events come first in the queue)
     */
    record Timing(long nanos, int livesThatFit) {
        boolean ambiguous() {
            return livesThatFit > 1;
        }
    }

    /**
     * When an exec of a file on the overlay with device {@code dev} happened, as precisely as the mount table tells,
     * for an event queued after {@code queuedAfterNanos} and read at {@code readNanos} (fanotify events carry no
     * time). Anonymous overlay devices are reused at once by the next container, so the read time may lie in another
     * container's life than the exec's: of the lives of that device overlapping [queuedAfter, read], the first (the
     * queue is in order, and an older container's events come first), the middle of the overlap (robust against the
     * few microseconds between listeners that time the same mount). {@code readNanos} when no life is known.
     *
     * <p>{@code bornNanos}: when the file was created (CLOCK_MONOTONIC; a file of the container's writable layer,
     * created in its container's life), {@code Long.MIN_VALUE} when not known: a life that ended before the file
     * existed is not its exec's. When more than one life still fits, the first is taken and the exec counted in
     * {@link #severalLivesFit()} (the device was reused while the event waited in the queue).
     *
     * <p>{@code throughTheOverlay}: the event named the overlay's own inode (not a layer's real one). A queued fanotify
     * event holds a reference to its file's path, so that overlay's superblock, and with it its anonymous device
     * number, lived from the exec until the event was read: no other overlay can have been given the device
     * meanwhile. The exec is then in the last life of the device that began by the read, whatever earlier lives the
     * event's wait overlaps (their overlays were gone before this one existed).
     */
    synchronized Timing timing(long dev, long queuedAfterNanos, long readNanos, long bornNanos,
                               boolean throughTheOverlay) {
        java.util.ArrayDeque<long[]> lives = overlayLives.get(dev);
        if (lives == null) {
            return new Timing(readNanos, 0);
        }
        long first = Long.MIN_VALUE;
        int fits = 0;
        long[] lastBegun = null;
        for (long[] life : lives) {
            if (life[0] <= readNanos) {
                lastBegun = life;
            }
            if (life[1] >= 0 && life[1] < bornNanos) {
                continue;
            }
            long from = Math.max(life[0], queuedAfterNanos);
            long to = life[1] < 0 ? readNanos : Math.min(life[1], readNanos);
            if (from <= to) {
                if (fits++ == 0) {
                    first = from + (to - from) / 2;
                }
            }
        }
        if (fits > 1) {
            severalLivesFit.increment();
            LOG.info("an exec on overlay dev {} queued {} ms before it was read fits {} lives (overlays) of that"
                    + " device, mounted and unmounted at {} (ms before the read; -1: still mounted): {}"
                    + " (drift.fanotify.reused.device)", dev, (readNanos - queuedAfterNanos) / 1_000_000L, fits,
                    describe(lives, readNanos), throughTheOverlay ? "its event named the overlay's own inode, which"
                            + " kept that overlay and its device until the read: timed in the last"
                            : "its container cannot be told by the device");
        }
        if (throughTheOverlay && lastBegun != null) {
            long from = Math.max(lastBegun[0], queuedAfterNanos);
            long to = lastBegun[1] < 0 ? readNanos : Math.min(lastBegun[1], readNanos);
            return new Timing(from <= to ? from + (to - from) / 2 : lastBegun[0], 1);
        }
        return new Timing(fits == 0 ? readNanos : first, fits);
    }

    private static String describe(java.util.Collection<long[]> lives, long readNanos) {
        StringBuilder out = new StringBuilder();
        for (long[] life : lives) {
            out.append(out.length() == 0 ? "[" : ", [").append((readNanos - life[0]) / 1_000_000L).append(", ")
                    .append(life[1] < 0 ? -1 : (readNanos - life[1]) / 1_000_000L).append(']');
        }
        return out.toString();
    }

    /** Execs whose overlay device had more than one life (container) between their queueing and their read. */
    long severalLivesFit() {
        return severalLivesFit.sum();
    }

    void learn(long mountId, Owner owner) {
        if (byMountId.size() >= MAX_MOUNTS) {
            byMountId.clear();
        }
        byMountId.put(mountId, owner);
    }

    /** The container whose root filesystem (overlay) has device {@code dev}. */
    void learnRoot(long dev, Owner owner) {
        if (byRootDev.size() >= MAX_MOUNTS) {
            byRootDev.clear();
        }
        byRootDev.put(dev, owner);
    }

    void forgetRoot(long dev) {
        byRootDev.remove(dev);
    }

    /** Forgets what was learned of these mounts (their container is gone; the kernel reuses mount ids). */
    void forget(java.util.Collection<Long> mountIds) {
        mountIds.forEach(byMountId::remove);
    }

    Owner ownerOf(long mountId) {
        return byMountId.get(mountId);
    }

    /**
     * Whether {@code mountId} is a mount of a known container's namespace: learned from one of its processes, and not
     * in the host's mount table (mount ids are global: one in both was freed with its container and given to a host
     * mount before the owners learned that the container went).
     */
    boolean containerMount(long mountId) {
        return byMountId.containsKey(mountId) && !hostMounts.containsKey(mountId);
    }

    int size() {
        return byMountId.size();
    }

    /**
     * {@code facts} when the process was still there; else, when the mount the file was opened through is a known
     * container's, the facts of an exited process of that container: its cgroup and mount namespace, the rest
     * unknown.
     */
    ProcessFacts completed(int pid, ProcessFacts facts, long mountId) {
        return completed(pid, facts, mountId, Long.MAX_VALUE);
    }

    /** As {@link #completed(int, ProcessFacts, long)} for an exec at {@code atNanos}: not by an owner since later. */
    ProcessFacts completed(int pid, ProcessFacts facts, long mountId, long atNanos) {
        if (placed(facts)) {
            return facts;
        }
        return from(facts, byMountId.get(mountId), atNanos);
    }

    /** As {@link #completed(int, ProcessFacts, long)}, by the device of the container root the file is on. */
    ProcessFacts completedByRoot(int pid, ProcessFacts facts, long overlayDev) {
        return completedByRoot(pid, facts, overlayDev, Long.MAX_VALUE);
    }

    /** As {@link #completedByRoot(int, ProcessFacts, long)} for an exec at {@code atNanos}. */
    ProcessFacts completedByRoot(int pid, ProcessFacts facts, long overlayDev, long atNanos) {
        if (placed(facts) || overlayDev == 0L) {
            return facts;
        }
        return from(facts, byRootDev.get(overlayDev), atNanos);
    }

    /**
     * Whether /proc placed the process: its cgroup or its mount namespace was read. A process that exited but is not
     * reaped yet (a zombie) still has its stat and status, but no namespaces: it is completed like a gone one.
     */
    private static boolean placed(ProcessFacts facts) {
        return facts.cgroupId() != 0L || facts.mountNsId() != 0L;
    }

    /** {@code facts} with the owner's cgroup and mount namespace, what /proc told of the process kept. */
    private static ProcessFacts from(ProcessFacts facts, Owner owner, long atNanos) {
        if (owner == null || atNanos < owner.sinceNanos()) {
            return facts;
        }
        return new ProcessFacts(facts.tgid(), facts.ppid(), facts.uid(), facts.gid(), facts.startTimeNs(),
                facts.comm(), owner.cgroupId(), owner.mountNsId());
    }

    /** When the overlay with device {@code dev} now mounted was mounted; {@code Long.MIN_VALUE} when unknown. */
    synchronized long mountedSince(long dev) {
        java.util.ArrayDeque<long[]> lives = overlayLives.get(dev);
        long[] last = lives == null ? null : lives.peekLast();
        return last != null && last[1] < 0 ? last[0] : Long.MIN_VALUE;
    }
}
