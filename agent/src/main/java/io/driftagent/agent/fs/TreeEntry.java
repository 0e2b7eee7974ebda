package io.driftagent.agent.fs;

import java.util.Objects;

/**
 * One file met while walking a directory tree, as lstat saw it.
 *
 * @param path       absolute path inside the walked root ("/usr/bin/ls"), in the {@link PathBytes} mapping
 * @param facts      statx facts, the file itself (never a symlink's target)
 * @param rdevMajor  device major (device files; 0 otherwise)
 * @param rdevMinor  device minor
 * @param linkTarget symlink target in the {@link PathBytes} mapping, else null
 * @param opaque     a directory carrying overlayfs' opaque xattr ({@code trusted.overlay.opaque} or
 *                   {@code user.overlay.opaque} = "y")
 */
public record TreeEntry(String path, FileFacts facts, int rdevMajor, int rdevMinor, String linkTarget,
                        boolean opaque) {
    public TreeEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(facts, "facts");
    }

    /** overlayfs' unpacked whiteout: a character device 0/0. */
    public boolean isWhiteout() {
        return facts.type() == FileFacts.Type.CHAR_DEVICE && rdevMajor == 0 && rdevMinor == 0;
    }
}
