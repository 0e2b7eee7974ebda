package io.driftagent.agent.attribution;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A container's filesystems: its root overlay (empty if the root is not an overlay) and every other mount
 * (volumes, tmpfs, /dev/shm, ...), as read from {@code /proc/<pid>/mountinfo} of one of its processes.
 */
public record ContainerFilesystems(Optional<OverlayRoot> root, List<ContainerMount> mounts) {
    public ContainerFilesystems {
        mounts = List.copyOf(mounts);
    }

    /**
     * The device (stat(2) encoding) of the container's root overlay, the one place it is derived: a file on it is on
     * the container's root; empty when the root is not an overlay.
     */
    public OptionalLong rootDevice() {
        return root.map(r -> OptionalLong.of(r.mount().dev())).orElseGet(OptionalLong::empty);
    }

    /** Whether {@code dev} is the device of the container's root overlay. */
    public boolean isRootDevice(long dev) {
        OptionalLong rootDev = rootDevice();
        return rootDev.isPresent() && rootDev.getAsLong() == dev;
    }

    /** The mount whose device is {@code dev} and that is not the root, if any. */
    public Optional<ContainerMount> nonRootMountWithDev(long dev) {
        if (isRootDevice(dev)) {
            return Optional.empty();
        }
        return mounts.stream().filter(m -> m.dev() == dev && !m.mountPoint().equals("/")).findFirst();
    }
}
