package io.driftagent.agent.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads files under a root directory that an attacker controls (a container's upper layer, its rootfs): every
 * component is resolved inside {@code root} without following symlinks or {@code ..} out of it, FIFOs and devices
 * are never opened for reading, and reads are bounded.
 */
public interface RootedFiles {

    /** Facts of {@code root/path} (the last component not followed); empty when absent or unreachable inside root. */
    Optional<FileFacts> stat(Path root, String path) throws IOException;

    /** sha256 (lowercase hex) of the regular file {@code root/path}; empty when not a regular file or larger than maxBytes. */
    Optional<String> sha256(Path root, String path, long maxBytes) throws IOException;

    /**
     * The target of the symlink {@code root/path} (in the {@link PathBytes} mapping), read without following it or any
     * parent; empty when it is not a symlink, not reachable inside root, or its target is longer than maxBytes.
     */
    Optional<String> readLink(Path root, String path, int maxBytes) throws IOException;
}
