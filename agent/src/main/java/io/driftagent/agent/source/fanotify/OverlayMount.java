package io.driftagent.agent.source.fanotify;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * An overlayfs mount as /proc/&lt;pid&gt;/mountinfo shows it.
 *
 * @param dev        the overlay superblock's device (stat(2) encoding)
 * @param mountPoint where it is mounted in the namespace that was read
 * @param lowerDirs  lower layers, top first
 * @param upperDir   the writable layer, or null for a read-only overlay
 */
record OverlayMount(long dev, String mountPoint, List<Path> lowerDirs, Path upperDir) {
    OverlayMount {
        Objects.requireNonNull(mountPoint, "mountPoint");
        lowerDirs = List.copyOf(lowerDirs);
    }
}
