package io.driftagent.agent.source.fanotify;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Derives {@link ExecutedFile} facts from an open fd: statx, fstatfs, readlink of /proc/self/fd/N, and a bounded
 * look at the file's first bytes (the {@code #!} or ELF header and program headers). Not thread-safe: one per thread.
 */
final class ExecutedFileInspector {

    private static final String DELETED_SUFFIX = " (deleted)";
    private static final int PATH_MAX = 4096;
    private static final int PT_INTERP = 3;
    private static final int MAX_PHDRS = 64;

    private final Native nat;
    private final LinuxLibC libc;
    private final ByteBuffer statx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final ByteBuffer statfs = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final ByteBuffer link = ByteBuffer.allocateDirect(PATH_MAX).order(ByteOrder.nativeOrder());
    private final ByteBuffer head = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer phdrs = ByteBuffer.allocateDirect(MAX_PHDRS * 64).order(ByteOrder.LITTLE_ENDIAN);
    private final byte[] linkBytes = new byte[PATH_MAX];

    ExecutedFileInspector(Native nat) {
        this.nat = nat;
        this.libc = nat.libc;
    }

    /** Facts of the file behind {@code fd}; {@code null} when the fd cannot even be stat'ed. */
    ExecutedFile inspect(int fd, boolean sniffFormat) {
        statx.clear();
        if (libc.statx(fd, "", Native.AT_EMPTY_PATH, Native.STATX_BASIC_STATS | Native.STATX_MNT_ID, statx) != 0) {
            return null;
        }
        long nlink = Integer.toUnsignedLong(statx.getInt(16));
        long ino = statx.getLong(32);
        long dev = Native.makedev(Integer.toUnsignedLong(statx.getInt(136)), Integer.toUnsignedLong(statx.getInt(140)));
        long mountId = statx.getLong(144);
        statfs.clear();
        long magic = libc.fstatfs(fd, statfs) == 0 ? statfs.getLong(0) : 0L;
        String path = readFdPath(fd);
        boolean deleted = path.endsWith(DELETED_SUFFIX);
        if (deleted) {
            path = path.substring(0, path.length() - DELETED_SUFFIX.length());
        }
        ExecutedFile.Format format = sniffFormat ? sniff(fd) : ExecutedFile.Format.OTHER;
        return new ExecutedFile(dev, ino, nlink, mountId, magic, path, deleted, format);
    }

    private String readFdPath(int fd) {
        link.clear();
        long n = libc.readlink("/proc/self/fd/" + fd, link, PATH_MAX);
        if (n <= 0) {
            return "";
        }
        int len = (int) Math.min(n, PATH_MAX);
        link.get(0, linkBytes, 0, len);
        return new String(linkBytes, 0, len, StandardCharsets.UTF_8);
    }

    ExecutedFile.Format sniff(int fd) {
        head.clear();
        long n = libc.pread(fd, head, 64, 0);
        if (n < 4) {
            return ExecutedFile.Format.OTHER;
        }
        if (head.get(0) == '#' && head.get(1) == '!') {
            return ExecutedFile.Format.SCRIPT;
        }
        if (head.get(0) != 0x7f || head.get(1) != 'E' || head.get(2) != 'L' || head.get(3) != 'F' || n < 52
                || head.get(5) != 1) {
            return ExecutedFile.Format.OTHER;
        }
        boolean is64 = head.get(4) == 2;
        long phoff = is64 ? head.getLong(32) : Integer.toUnsignedLong(head.getInt(28));
        int phentsize = Short.toUnsignedInt(head.getShort(is64 ? 54 : 42));
        int phnum = Math.min(Short.toUnsignedInt(head.getShort(is64 ? 56 : 44)), MAX_PHDRS);
        if (phentsize < 8 || phentsize > 64 || phoff <= 0) {
            return ExecutedFile.Format.ELF_STANDALONE;
        }
        int want = phentsize * phnum;
        phdrs.clear();
        long got = libc.pread(fd, phdrs, want, phoff);
        for (int i = 0; i + 4 <= got && i < want; i += phentsize) {
            if (phdrs.getInt(i) == PT_INTERP) {
                return ExecutedFile.Format.ELF_WITH_INTERPRETER;
            }
        }
        return ExecutedFile.Format.ELF_STANDALONE;
    }
}
