package io.driftagent.agent.fs;

import static io.driftagent.agent.host.Errno.EINTR;
import static io.driftagent.agent.host.Errno.EINVAL;
import static io.driftagent.agent.host.Errno.ELOOP;
import static io.driftagent.agent.host.Errno.ENOENT;
import static io.driftagent.agent.host.Errno.ENOTDIR;
import static io.driftagent.agent.host.Errno.EPERM;

import io.driftagent.agent.host.DeviceNumber;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Symlink-safe file-system primitives over libc: resolve a path inside a root fd without following any symlink
 * ({@code openat2} with {@code RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS}, or, where the kernel
 * has no openat2, component by component with {@code openat(O_PATH|O_NOFOLLOW)}), stat without following, read
 * directories and symlinks as bytes. Expected misses return a negative errno instead of throwing.
 * Thread-safe: it holds no per-call state.
 */
public final class NativeFiles {

    static final int O_RDONLY = 0;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    static final int O_PATH = 010000000;
    private static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_NOFOLLOW = 0x100;
    static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final long RESOLVE_NO_MAGICLINKS = 0x02;
    private static final long RESOLVE_NO_SYMLINKS = 0x04;
    private static final long RESOLVE_IN_ROOT = 0x10;
    private static final long SYS_OPENAT2 = 437; // same number on x86_64 and aarch64 (asm-generic numbering)
    private static final int MAX_COMPONENTS = 4096;

    private static final byte[] DOT = {'.', 0};
    private static final byte[] EMPTY = {0};

    private final LibC libc;
    private final Runtime runtime;
    private final int oDirectory;
    private final int oNoFollow;
    private final boolean useOpenat2;

    /** Binds libc; uses openat2 when the kernel offers it. */
    public static NativeFiles load() {
        return new NativeFiles(true);
    }

    /** Binds libc but never calls openat2: the component-by-component fallback (kernels before 5.6, seccomp). */
    static NativeFiles loadWithoutOpenat2() {
        return new NativeFiles(false);
    }

    private NativeFiles(boolean tryOpenat2) {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            oDirectory = 0200000;
            oNoFollow = 0400000;
        } else if (arch.equals("aarch64") || arch.equals("arm64")) {
            oDirectory = 040000;
            oNoFollow = 0100000;
        } else {
            throw new UnsupportedOperationException("open(2) flag values unknown for architecture " + arch);
        }
        libc = LibraryLoader.create(LibC.class).load("c");
        runtime = Runtime.getRuntime(libc);
        useOpenat2 = tryOpenat2 && probeOpenat2();
    }

    private boolean probeOpenat2() {
        int fd = openat2(AT_FDCWD, "/".getBytes(StandardCharsets.US_ASCII), O_PATH | O_CLOEXEC, 0);
        if (fd >= 0) {
            libc.close(fd);
            return true;
        }
        return false;
    }

    public boolean usesOpenat2() {
        return useOpenat2;
    }

    int oDirectory() {
        return oDirectory;
    }

    int oNoFollow() {
        return oNoFollow;
    }

    LibC libc() {
        return libc;
    }

    int errno() {
        return runtime.getLastError();
    }

    /** Opens a trusted host directory (the root everything else is resolved in); throws when it cannot. */
    public int openRoot(String hostDirectory) throws IOException {
        int fd = libc.openat(AT_FDCWD, PathBytes.encodeCString(hostDirectory), O_PATH | O_CLOEXEC | oDirectory, 0);
        if (fd < 0) {
            throw new IOException("cannot open root " + hostDirectory + ": errno " + errno());
        }
        return fd;
    }

    public void close(int fd) {
        if (fd >= 0) {
            libc.close(fd);
        }
    }

    /**
     * Opens {@code relativePath} (image path bytes, no NUL, leading '/' allowed) inside {@code rootFd}: no symlink
     * is followed in any component (a symlink as the last component is opened itself when {@code flags} has
     * O_PATH|O_NOFOLLOW, else fails), {@code ..} is refused. Returns the fd, or a negative errno.
     */
    public int openInRoot(int rootFd, byte[] relativePath, int flags) {
        byte[][] components = split(relativePath);
        if (components == null) {
            return -EPERM;
        }
        if (useOpenat2) {
            byte[] joined = join(components);
            int fd = openat2(rootFd, joined, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS
                    | RESOLVE_NO_MAGICLINKS);
            return fd >= 0 ? fd : -errnoAfterFailure(fd);
        }
        return openByComponents(rootFd, components, flags | O_CLOEXEC);
    }

    /**
     * Like {@link #openInRoot} but symlinks ARE followed, each interpreted as if {@code rootFd} were "/" (absolute
     * targets restart at the root, ".." stops at it, magic links refused), the way the container's own processes see
     * them: what exec'ing that path inside the container would open. The last component is followed unless
     * {@code flags} has O_NOFOLLOW. At most 40 symlinks. Returns the fd or a negative errno.
     */
    public int openResolvingInRoot(int rootFd, byte[] path, int flags) {
        for (byte b : path) {
            if (b == 0) {
                return -EINVAL; // the kernel would silently cut the path at the NUL
            }
        }
        if (useOpenat2) {
            byte[] joined = path.length == 0 ? new byte[] {'.'} : path;
            int fd = openat2(rootFd, joined, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
            return fd >= 0 ? fd : -errnoAfterFailure(fd);
        }
        return openResolvingByComponents(rootFd, path, flags | O_CLOEXEC);
    }

    private int openResolvingByComponents(int rootFd, byte[] path, int flags) {
        java.util.Deque<byte[]> todo = new java.util.ArrayDeque<>(java.util.Arrays.asList(splitKeepingDotDot(path)));
        java.util.List<byte[]> resolved = new java.util.ArrayList<>();
        boolean followLast = (flags & oNoFollow) == 0;
        Stat stat = newStat();
        int hops = 0;
        while (!todo.isEmpty()) {
            byte[] component = todo.pollFirst();
            if (component.length == 2 && component[0] == '.' && component[1] == '.') {
                if (!resolved.isEmpty()) {
                    resolved.remove(resolved.size() - 1);
                }
                continue;
            }
            resolved.add(component);
            boolean last = todo.isEmpty();
            if (last && !followLast) {
                break;
            }
            int fd = openByComponents(rootFd, resolved.toArray(byte[][]::new), O_PATH | O_CLOEXEC | oNoFollow);
            if (fd < 0) {
                return fd;
            }
            try {
                if (fstat(fd, stat) != 0) {
                    return -ENOENT;
                }
                if (stat.type() != FileFacts.Type.SYMLINK) {
                    continue;
                }
                if (++hops > 40) {
                    return -ELOOP;
                }
                Optional<byte[]> target = readLink(fd, EMPTY, 4096);
                if (target.isEmpty() || target.get().length == 0) {
                    return -ENOENT;
                }
                resolved.remove(resolved.size() - 1);
                if (target.get()[0] == '/') {
                    resolved.clear();
                }
                byte[][] parts = splitKeepingDotDot(target.get());
                for (int i = parts.length - 1; i >= 0; i--) {
                    todo.addFirst(parts[i]);
                }
            } finally {
                close(fd);
            }
        }
        return openByComponents(rootFd, resolved.toArray(byte[][]::new), flags);
    }

    private static byte[][] splitKeepingDotDot(byte[] path) {
        java.util.List<byte[]> parts = new java.util.ArrayList<>();
        int i = 0;
        while (i < path.length) {
            while (i < path.length && path[i] == '/') {
                i++;
            }
            int start = i;
            while (i < path.length && path[i] != '/') {
                i++;
            }
            if (i > start && !(i - start == 1 && path[start] == '.')) {
                parts.add(java.util.Arrays.copyOfRange(path, start, i));
            }
        }
        return parts.toArray(byte[][]::new);
    }

    private int errnoAfterFailure(int result) {
        return result == -1 ? errno() : -result;
    }

    private int openat2(int dirFd, byte[] path, int flags, long resolve) {
        byte[] cPath = new byte[path.length + 1];
        System.arraycopy(path, 0, cPath, 0, path.length);
        long[] how = {flags & 0xffffffffL, 0L, resolve};
        while (true) {
            long r = libc.syscall(SYS_OPENAT2, dirFd, cPath, how, 24);
            if (r >= 0 || errno() != EINTR) {
                return (int) r;
            }
        }
    }

    private int openByComponents(int rootFd, byte[][] components, int flags) {
        if (components.length == 0) {
            int fd = libc.openat(rootFd, DOT, flags, 0);
            return fd >= 0 ? fd : -errno();
        }
        int current = rootFd;
        for (int i = 0; i < components.length; i++) {
            boolean last = i == components.length - 1;
            byte[] name = cString(components[i]);
            int next = last
                    ? libc.openat(current, name, flags | oNoFollow, 0)
                    : libc.openat(current, name, O_PATH | O_CLOEXEC | oNoFollow | oDirectory, 0);
            int err = next < 0 ? errno() : 0;
            if (current != rootFd) {
                libc.close(current);
            }
            if (next < 0) {
                return -(err == ENOTDIR && !last ? ELOOP : err);
            }
            current = next;
        }
        return current;
    }

    /** Splits a path into its components; null when it has a {@code ..} component or too many components. */
    static byte[][] split(byte[] path) {
        int count = 0;
        int i = 0;
        byte[][] parts = new byte[8][];
        while (i < path.length) {
            while (i < path.length && path[i] == '/') {
                i++;
            }
            int start = i;
            while (i < path.length && path[i] != '/') {
                i++;
            }
            int len = i - start;
            if (len == 0 || (len == 1 && path[start] == '.')) {
                continue;
            }
            if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
                return null;
            }
            if (path[start] == 0 || containsNul(path, start, len)) {
                return null;
            }
            if (count == parts.length) {
                if (count >= MAX_COMPONENTS) {
                    return null;
                }
                parts = java.util.Arrays.copyOf(parts, count * 2);
            }
            byte[] part = new byte[len];
            System.arraycopy(path, start, part, 0, len);
            parts[count++] = part;
        }
        return java.util.Arrays.copyOf(parts, count);
    }

    private static boolean containsNul(byte[] b, int start, int len) {
        for (int i = start; i < start + len; i++) {
            if (b[i] == 0) {
                return true;
            }
        }
        return false;
    }

    private static byte[] join(byte[][] components) {
        if (components.length == 0) {
            return new byte[] {'.'};
        }
        int len = components.length - 1;
        for (byte[] c : components) {
            len += c.length;
        }
        byte[] out = new byte[len];
        int pos = 0;
        for (int i = 0; i < components.length; i++) {
            if (i > 0) {
                out[pos++] = '/';
            }
            System.arraycopy(components[i], 0, out, pos, components[i].length);
            pos += components[i].length;
        }
        return out;
    }

    static byte[] cString(byte[] raw) {
        byte[] c = new byte[raw.length + 1];
        System.arraycopy(raw, 0, c, 0, raw.length);
        return c;
    }

    /** A reusable native buffer for statx results; one per thread of use. */
    public Stat newStat() {
        return new Stat(Memory.allocateDirect(runtime, 256));
    }

    /** statx of an open fd (the fd's own file). Returns 0 or a negative errno. */
    public int fstat(int fd, Stat into) {
        int r = libc.statx(fd, EMPTY, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, into.buffer);
        return r == 0 ? 0 : -errno();
    }

    /** statx of {@code name} (NUL-terminated, a single component) in the directory fd, not following it. */
    public int statAt(int dirFd, byte[] cName, Stat into) {
        int r = libc.statx(dirFd, cName, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, into.buffer);
        return r == 0 ? 0 : -errno();
    }

    /** The target bytes of the symlink {@code cName} in dirFd (or of the O_PATH symlink fd itself if cName is empty). */
    public Optional<byte[]> readLink(int dirFd, byte[] cName, int maxBytes) {
        byte[] buf = new byte[maxBytes + 1];
        long n = libc.readlinkat(dirFd, cName, buf, buf.length);
        if (n < 0 || n > maxBytes) {
            return Optional.empty();
        }
        return Optional.of(java.util.Arrays.copyOf(buf, (int) n));
    }

    /** The value of extended attribute {@code name} on an open fd, empty when absent or unreadable. */
    public Optional<byte[]> getXattr(int fd, String name, int maxBytes) {
        byte[] value = new byte[maxBytes];
        long n = libc.fgetxattr(fd, PathBytes.encodeCString(name), value, value.length);
        if (n < 0) {
            return Optional.empty();
        }
        return Optional.of(java.util.Arrays.copyOf(value, (int) n));
    }

    /** Reads up to count bytes into the direct buffer at its position; bytes read, 0 at EOF, or a negative errno. */
    public long read(int fd, ByteBuffer direct, int count) {
        while (true) {
            long n = libc.read(fd, direct, count);
            if (n >= 0) {
                return n;
            }
            int err = errno();
            if (err != EINTR) {
                return -err;
            }
        }
    }

    /** Reads directory entries into the buffer; bytes filled, 0 at the end, or a negative errno. */
    public long getdents(int dirFd, Pointer buffer, long size) {
        long n = libc.getdents64(dirFd, buffer, size);
        return n >= 0 ? n : -errno();
    }

    public Pointer allocate(int bytes) {
        return Memory.allocateDirect(runtime, bytes);
    }

    /** Parsed view over a statx buffer (the struct layout is the same on every architecture). */
    public static final class Stat {
        final Pointer buffer;

        Stat(Pointer buffer) {
            this.buffer = buffer;
        }

        public int rawMode() {
            return buffer.getShort(28) & 0xffff;
        }

        public FileFacts.Type type() {
            return switch (rawMode() & 0170000) {
                case 0100000 -> FileFacts.Type.REGULAR;
                case 0040000 -> FileFacts.Type.DIRECTORY;
                case 0120000 -> FileFacts.Type.SYMLINK;
                case 0020000 -> FileFacts.Type.CHAR_DEVICE;
                case 0060000 -> FileFacts.Type.BLOCK_DEVICE;
                case 0010000 -> FileFacts.Type.FIFO;
                case 0140000 -> FileFacts.Type.SOCKET;
                default -> FileFacts.Type.UNKNOWN;
            };
        }

        public int permissions() {
            return rawMode() & 07777;
        }

        public long size() {
            return buffer.getLong(40);
        }

        public long ino() {
            return buffer.getLong(32);
        }

        public long nlink() {
            return buffer.getInt(16) & 0xffffffffL;
        }

        public long mtimeNs() {
            return buffer.getLong(112) * 1_000_000_000L + (buffer.getInt(120) & 0xffffffffL);
        }

        public long ctimeNs() {
            return buffer.getLong(96) * 1_000_000_000L + (buffer.getInt(104) & 0xffffffffL);
        }

        public int rdevMajor() {
            return buffer.getInt(128);
        }

        public int rdevMinor() {
            return buffer.getInt(132);
        }

        public long dev() {
            return DeviceNumber.makedev(buffer.getInt(136) & 0xffffffffL, buffer.getInt(140) & 0xffffffffL);
        }

        public FileFacts toFacts() {
            return new FileFacts(type(), permissions(), size(), dev(), ino(), mtimeNs(), ctimeNs(), nlink());
        }
    }
}
