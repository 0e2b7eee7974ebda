package io.driftagent.agent.attribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads a process's {@code /proc/<pid>/exe} or {@code cwd} link as the process itself sees the path. The kernel
 * resolves these links against the reader's root, so for a container process they read as the host path of its
 * rootfs plus the container path; the rootfs part (the process's own {@code root} link) is cut off.
 */
public final class ProcessLinks {

    private ProcessLinks() {
    }

    /** The link's target inside the process's root; empty when the process is gone or the target is outside it. */
    public static Optional<String> read(Path procRoot, int pid, String link) {
        if (pid <= 0) {
            return Optional.empty();
        }
        Path proc = procRoot.resolve(Integer.toString(pid));
        String target;
        try {
            target = Files.readSymbolicLink(proc.resolve(link)).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException gone) {
            return Optional.empty();
        }
        String root;
        try {
            root = Files.readSymbolicLink(proc.resolve("root")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException unreadable) {
            return Optional.of(target); // no root link to compare with: the target as the kernel gave it
        }
        if (root.equals("/")) {
            return Optional.of(target);
        }
        return target.startsWith(root + "/") ? Optional.of(target.substring(root.length())) : Optional.empty();
    }
}
