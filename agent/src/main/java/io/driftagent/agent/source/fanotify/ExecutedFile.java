package io.driftagent.agent.source.fanotify;

import java.util.Objects;

/**
 * What the fanotify event fd says about the opened-for-exec file, read before the fd is closed.
 *
 * @param dev       st_dev (stat(2) encoding) of the inode the fd refers to
 * @param ino       st_ino
 * @param nlink     link count (0: deleted or memfd)
 * @param mountId   statx mount id of the fd's path (for overlay layer files: overlay's private layer mount)
 * @param fsMagic   statfs f_type of the file's filesystem
 * @param path      readlink of the fd, without the " (deleted)" suffix
 * @param deleted   readlink ended in " (deleted)"
 * @param format    what the first bytes say the file is
 * @param interpreterPath the path the kernel will open next in this execve: a script's {@code #!} interpreter, an
 *                        ELF's PT_INTERP (ld.so); "" if none or not readable
 * @param birthNanos when the inode was created (statx {@code stx_btime}, nanoseconds since the epoch), {@link #UNKNOWN}
 *                   when the filesystem does not say; unlike mtime, no process can set it
 * @param changeNanos when the inode last changed (statx {@code stx_ctime}, ns since the epoch; for a deleted file, when
 *                    its last link went), {@link #UNKNOWN} when not read
 */
public record ExecutedFile(long dev, long ino, long nlink, long mountId, long fsMagic, String path, boolean deleted, Format format,
                    String interpreterPath, long birthNanos, long changeNanos) {

    static final long OVERLAYFS_MAGIC = 0x794c7630L;
    /** {@link #birthNanos} not known. */
    static final long UNKNOWN = Long.MIN_VALUE;

    public ExecutedFile {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(interpreterPath, "interpreterPath");
    }

    /** A file whose creation time is not known. */
    public ExecutedFile(long dev, long ino, long nlink, long mountId, long fsMagic, String path, boolean deleted,
                        Format format, String interpreterPath) {
        this(dev, ino, nlink, mountId, fsMagic, path, deleted, format, interpreterPath, UNKNOWN, UNKNOWN);
    }

    public enum Format {
        /** starts with {@code #!}: the kernel will open an interpreter next, in the same execve */
        SCRIPT,
        /** an ELF with PT_INTERP: the kernel will open the ELF interpreter (ld.so) next, in the same execve */
        ELF_WITH_INTERPRETER,
        /** an ELF without PT_INTERP (static, or ld.so itself) */
        ELF_STANDALONE,
        OTHER
    }

    boolean onOverlay() {
        return fsMagic == OVERLAYFS_MAGIC;
    }

    boolean memfd() {
        return path.startsWith("/memfd:") || path.startsWith("memfd:");
    }

}
