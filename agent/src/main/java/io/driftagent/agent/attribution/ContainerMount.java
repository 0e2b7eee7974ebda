package io.driftagent.agent.attribution;

import io.driftagent.agent.host.MountInfoEntry;
import java.util.Objects;

/**
 * One mount in a container's mount namespace, from {@code /proc/<pid>/mountinfo}.
 *
 * @param mountId    mountinfo field 1 (unique per mount on the host)
 * @param dev        the device number in stat(2) encoding ({@code makedev(major, minor)})
 * @param mountPoint where it is mounted, as seen inside the container (mountinfo field 5, unescaped)
 * @param root       the root of the mount within its filesystem (mountinfo field 4, unescaped)
 * @param fsType     filesystem type (overlay, tmpfs, ext4, ...)
 * @param source     mount source (mountinfo super-block source)
 */
public record ContainerMount(int mountId, long dev, String mountPoint, String root, String fsType, String source) {
    public ContainerMount {
        Objects.requireNonNull(mountPoint, "mountPoint");
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(fsType, "fsType");
        Objects.requireNonNull(source, "source");
    }

    /** The mount one mountinfo line describes. */
    public static ContainerMount of(MountInfoEntry entry) {
        return new ContainerMount(entry.mountId(), entry.dev(), entry.mountPoint(), entry.root(), entry.fsType(),
                entry.source());
    }
}
