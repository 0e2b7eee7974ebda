package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.host.DeviceNumber;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Derives {@link ExecutedFile} facts from an open fd: statx, fstatfs, readlink of /proc/self/fd/N, and a bounded
 * look at the file's first bytes (the {@code #!} or ELF header and program headers). The file system type and format
 * are cached per (dev, ino, mount id, mtime, size): a storm execs the same few files. Not thread-safe: one per thread.
 */
public final class ExecutedFileInspector {

    private static final String DELETED_SUFFIX = " (deleted)";
    private static final int PATH_MAX = 4096;
    private static final int PT_INTERP = 3;
    private static final int MAX_PHDRS = 64;
    private static final int RECENT_FILES = 4096;
    private static final int MAX_INTERP_PATH = 256;

    private final LinuxLibC libc;
    private final ByteBuffer statx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final ByteBuffer statfs = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final ByteBuffer link = ByteBuffer.allocateDirect(PATH_MAX).order(ByteOrder.nativeOrder());
    private final ByteBuffer head = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer phdrs = ByteBuffer.allocateDirect(MAX_PHDRS * 64).order(ByteOrder.LITTLE_ENDIAN);
    private final byte[] linkBytes = new byte[PATH_MAX];
    private final ByteBuffer interp = ByteBuffer.allocateDirect(MAX_INTERP_PATH).order(ByteOrder.LITTLE_ENDIAN);
    /** PT_INTERP of the ELF just sniffed ("" when unreadable) */
    private String elfInterpreterPath = "";
    /** fs magic and format of recently exec'd files, keyed by what changes when they could change. */
    private final java.util.Map<FileKey, Sniffed> recent = new java.util.LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<FileKey, Sniffed> eldest) {
            return size() > RECENT_FILES;
        }
    };

    private record Sniffed(long magic, ExecutedFile.Format format, String interpreterPath) {}

    private record FileKey(long dev, long ino, long mountId, long mtimeSec, int mtimeNsec, long size) {}

    public ExecutedFileInspector(Native nat) {
        this.libc = nat.libc;
    }

    /** Facts of the file behind {@code fd}; {@code null} when the fd cannot even be stat'ed. */
    public ExecutedFile inspect(int fd, boolean sniffFormat) {
        statx.clear();
        if (libc.statx(fd, "", Native.AT_EMPTY_PATH, Native.STATX_BASIC_STATS | Native.STATX_MNT_ID
                | Native.STATX_BTIME, statx) != 0) {
            return null;
        }
        long nlink = Integer.toUnsignedLong(statx.getInt(16));
        long ino = statx.getLong(32);
        long dev = DeviceNumber.makedev(Integer.toUnsignedLong(statx.getInt(136)), Integer.toUnsignedLong(statx.getInt(140)));
        long mountId = statx.getLong(144);
        long birth = Native.birthNanos(statx);
        FileKey key = new FileKey(dev, ino, mountId, statx.getLong(112), statx.getInt(120), statx.getLong(40));
        Sniffed known = sniffFormat ? recent.get(key) : null;
        if (known == null) {
            statfs.clear();
            long magic = libc.fstatfs(fd, statfs) == 0 ? statfs.getLong(0) : 0L;
            ExecutedFile.Format format = sniffFormat ? sniff(fd) : ExecutedFile.Format.OTHER;
            known = new Sniffed(magic, format, format == ExecutedFile.Format.SCRIPT ? shebangPath()
                    : format == ExecutedFile.Format.ELF_WITH_INTERPRETER ? elfInterpreterPath : "");
            if (sniffFormat) {
                recent.put(key, known);
            }
        }
        String path = readFdPath(fd);
        boolean deleted = path.endsWith(DELETED_SUFFIX);
        if (deleted) {
            path = path.substring(0, path.length() - DELETED_SUFFIX.length());
        }
        return new ExecutedFile(dev, ino, nlink, mountId, known.magic(), path, deleted, known.format(), known.interpreterPath(),
                birth, Native.changeNanos(statx));
    }

    private String readFdPath(int fd) {
        link.clear();
        long n = libc.readlink("/proc/self/fd/" + fd, link, PATH_MAX);
        if (n <= 0) {
            return "";
        }
        int len = (int) Math.min(n, PATH_MAX);
        link.get(0, linkBytes, 0, len);
        return PathBytes.decode(linkBytes, 0, len);
    }

    /** The interpreter path of the {@code #!} line in {@link #head} (just sniffed), "" if it does not fit. */
    private String shebangPath() {
        int n = head.limit();
        int p = 2;
        while (p < n && (head.get(p) == ' ' || head.get(p) == '\t')) {
            p++;
        }
        int start = p;
        while (p < n && head.get(p) != ' ' && head.get(p) != '\t' && head.get(p) != '\n' && head.get(p) != 0) {
            p++;
        }
        if (p >= n || p == start) {
            return "";
        }
        byte[] b = new byte[p - start];
        head.get(start, b, 0, b.length);
        return PathBytes.decode(b);
    }

    private String readInterpreterPath(int fd, long off, long size) {
        if (off <= 0 || size <= 1 || size > MAX_INTERP_PATH) {
            return "";
        }
        interp.clear();
        long got = libc.pread(fd, interp, size, off);
        if (got != size) {
            return "";
        }
        int len = 0;
        while (len < got && interp.get(len) != 0) {
            len++;
        }
        byte[] b = new byte[len];
        interp.get(0, b, 0, len);
        return PathBytes.decode(b);
    }

    ExecutedFile.Format sniff(int fd) {
        elfInterpreterPath = "";
        head.clear();
        long n = libc.pread(fd, head, 64, 0);
        head.limit((int) Math.max(0, n));
        if (n < 4) {
            return ExecutedFile.Format.OTHER;
        }
        if (head.get(0) == '#' && head.get(1) == '!') {
            return ExecutedFile.Format.SCRIPT;
        }
        if (head.get(0) != 0x7f || head.get(1) != 'E' || head.get(2) != 'L' || head.get(3) != 'F'
                || n < (head.get(4) == 2 ? 64 : 52) || head.get(5) != 1) {
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
        for (int i = 0; i + phentsize <= got && i < want; i += phentsize) {
            if (phdrs.getInt(i) == PT_INTERP) {
                long off = is64 ? phdrs.getLong(i + 8) : Integer.toUnsignedLong(phdrs.getInt(i + 4));
                long size = is64 ? phdrs.getLong(i + 32) : Integer.toUnsignedLong(phdrs.getInt(i + 16));
                elfInterpreterPath = readInterpreterPath(fd, off, size);
                return ExecutedFile.Format.ELF_WITH_INTERPRETER;
            }
        }
        return ExecutedFile.Format.ELF_STANDALONE;
    }
}
