package io.driftagent.agent.source.fanotify;

import static io.driftagent.agent.host.Errno.EINVAL;
import static io.driftagent.agent.host.Errno.ENODEV;
import static io.driftagent.agent.host.Errno.ENOENT;
import static io.driftagent.agent.host.Errno.EOPNOTSUPP;
import static io.driftagent.agent.host.Errno.EXDEV;

import jnr.ffi.LibraryLoader;

/**
 * Loads {@link LinuxLibC} once per owner and reads errno. Constants are the Linux x86_64/aarch64 UAPI values.
 */
public final class Native {

    static final int FAN_CLOEXEC = 0x1;
    static final int FAN_NONBLOCK = 0x2;
    static final int FAN_CLASS_NOTIF = 0x0;
    public static final int FAN_CLASS_CONTENT = 0x4;

    static final int FAN_MARK_ADD = 0x1;
    static final int FAN_MARK_REMOVE = 0x2;
    static final int FAN_MARK_MOUNT = 0x10;
    static final int FAN_MARK_FILESYSTEM = 0x100;
    static final int FAN_MARK_IGNORED_MASK = 0x20;
    static final int FAN_MARK_FLUSH = 0x80;
    static final int FAN_MARK_EVICTABLE = 0x200;

    static final long FAN_OPEN_EXEC = 0x1000L;
    public static final long FAN_Q_OVERFLOW = 0x4000L;
    public static final long FAN_OPEN_EXEC_PERM = 0x40000L;

    static final int FAN_ALLOW = 0x1;
    static final int FAN_DENY = 0x2;
    static final int FAN_NOFD = -1;

    static final int FANOTIFY_METADATA_VERSION = 3;
    public static final int EVENT_METADATA_LEN = 24;

    static final int O_RDONLY = 0;
    static final int O_PATH = 0x200000;
    static final int O_LARGEFILE = 0x8000;
    static final int O_CLOEXEC = 0x80000;
    static final int O_NOFOLLOW = 0x20000;

    static final int EFD_CLOEXEC = 0x80000;
    static final int EFD_NONBLOCK = 0x800;

    static final int AT_FDCWD = -100;
    static final int AT_EMPTY_PATH = 0x1000;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int STATX_BASIC_STATS = 0x7ff;
    static final int STATX_MNT_ID = 0x1000;
    static final int STATX_BTIME = 0x800;

    static final short POLLIN = 0x1;
    static final short POLLPRI = 0x2;
    static final short POLLERR = 0x8;

    final LinuxLibC libc;
    private final java.util.function.IntSupplier errno;

    /** @param errno the calling thread's errno after a call of {@code libc} */
    Native(LinuxLibC libc, java.util.function.IntSupplier errno) {
        this.libc = libc;
        this.errno = errno;
    }

    public static Native load() {
        LinuxLibC libc = LibraryLoader.create(LinuxLibC.class).load("c");
        jnr.ffi.Runtime runtime = jnr.ffi.Runtime.getRuntime(libc);
        return new Native(libc, runtime::getLastError);
    }

    /**
     * The creation time ({@code stx_btime}, nanoseconds since the epoch) of what {@code statx} filled into {@code buf},
     * {@link ExecutedFile#UNKNOWN} when the filesystem did not report one.
     */
    static long birthNanos(java.nio.ByteBuffer buf) {
        if ((buf.getInt(0) & STATX_BTIME) == 0) {
            return ExecutedFile.UNKNOWN;
        }
        return buf.getLong(80) * 1_000_000_000L + Integer.toUnsignedLong(buf.getInt(88));
    }

    /** The change time ({@code stx_ctime}, nanoseconds since the epoch) of what {@code statx} filled into {@code buf}. */
    static long changeNanos(java.nio.ByteBuffer buf) {
        return buf.getLong(96) * 1_000_000_000L + Integer.toUnsignedLong(buf.getInt(104));
    }

    int errno() {
        return errno.getAsInt();
    }


    public static String strerror(int errno) {
        return switch (errno) {
            case ENOENT -> "ENOENT";
            case EINVAL -> "EINVAL";
            case EXDEV -> "EXDEV";
            case ENODEV -> "ENODEV";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case 1 -> "EPERM";
            case 13 -> "EACCES";
            case 24 -> "EMFILE";
            case 28 -> "ENOSPC";
            default -> "errno " + errno;
        };
    }
}
