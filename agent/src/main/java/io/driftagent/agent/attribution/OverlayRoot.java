package io.driftagent.agent.attribution;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A container's root overlay filesystem: host paths of its layers.
 *
 * @param mount     the root mount itself
 * @param lowerDirs the image layers, top first (absolute host paths, after resolving relative and short-link forms)
 * @param upperDir  the writable layer (absolute host path)
 * @param workDir   overlay's work dir (absolute host path)
 */
public record OverlayRoot(ContainerMount mount, List<Path> lowerDirs, Path upperDir, Path workDir) {
    public OverlayRoot {
        Objects.requireNonNull(mount, "mount");
        lowerDirs = List.copyOf(lowerDirs);
        Objects.requireNonNull(upperDir, "upperDir");
        Objects.requireNonNull(workDir, "workDir");
    }
}
