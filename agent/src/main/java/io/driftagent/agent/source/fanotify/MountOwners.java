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

    /** The cgroup v2 id and mount namespace of the container that owns a mount. */
    record Owner(long cgroupId, long mountNsId) {
    }

    private static final int MAX_MOUNTS = 65_536;

    private final Map<Long, Owner> byMountId = new ConcurrentHashMap<>();
    private final Map<Long, Owner> byRootDev = new ConcurrentHashMap<>();

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

    Owner ownerOf(long mountId) {
        return byMountId.get(mountId);
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
        if (facts.known() || facts.cgroupId() != 0L) {
            return facts;
        }
        Owner owner = byMountId.get(mountId);
        return owner == null ? facts : new ProcessFacts(pid, 0, -1, -1, 0L, "", owner.cgroupId(), owner.mountNsId());
    }

    /** As {@link #completed(int, ProcessFacts, long)}, by the device of the container root the file is on. */
    ProcessFacts completedByRoot(int pid, ProcessFacts facts, long overlayDev) {
        if (facts.known() || facts.cgroupId() != 0L || overlayDev == 0L) {
            return facts;
        }
        Owner owner = byRootDev.get(overlayDev);
        return owner == null ? facts : new ProcessFacts(pid, 0, -1, -1, 0L, "", owner.cgroupId(), owner.mountNsId());
    }
}
