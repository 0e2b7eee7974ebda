package io.driftagent.agent.attribution;

import java.util.List;
import java.util.Optional;

/**
 * A container's filesystems: its root overlay (empty if the root is not an overlay) and every other mount
 * (volumes, tmpfs, /dev/shm, ...), as read from {@code /proc/<pid>/mountinfo} of one of its processes.
 */
public record ContainerFilesystems(Optional<OverlayRoot> root, List<ContainerMount> mounts) {
    public ContainerFilesystems {
        mounts = List.copyOf(mounts);
    }

    /** The mount whose device is {@code dev} and that is not the root, if any. */
    public Optional<ContainerMount> nonRootMountWithDev(long dev) {
        long rootDev = root.map(r -> r.mount().dev()).orElse(-1L);
        if (dev == rootDev) {
            return Optional.empty();
        }
        return mounts.stream().filter(m -> m.dev() == dev && !m.mountPoint().equals("/")).findFirst();
    }
}
