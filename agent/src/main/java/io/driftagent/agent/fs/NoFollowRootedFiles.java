package io.driftagent.agent.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * {@link RootedFiles} over {@link NativeFiles}: every path is resolved inside the root without following any symlink
 * or {@code ..}; a file is opened for reading only after {@code statx} of its O_PATH handle says it is a regular
 * file no larger than the bound, and the read handle is checked to be that same inode, so FIFOs and devices are
 * never read and a swapped-in file is refused. Paths are Strings in the {@link PathBytes} mapping.
 */
public final class NoFollowRootedFiles implements RootedFiles {

    private static final int READ_CHUNK = 64 * 1024;

    private final NativeFiles files;
    private final boolean followInsideRoot;

    /** Follows no symlink at all. */
    public NoFollowRootedFiles(NativeFiles files) {
        this(files, false);
    }

    private NoFollowRootedFiles(NativeFiles files, boolean followInsideRoot) {
        this.files = files;
        this.followInsideRoot = followInsideRoot;
    }

    /**
     * A variant that follows symlinks the way the container sees them, each interpreted inside the root (absolute
     * targets restart at the root, ".." stops there, magic links refused): for paths as exec'd in the container
     * ("/bin/sh" with "/bin -> usr/bin"). {@code stat} still does not follow the last component; {@code sha256}
     * does. Nothing outside the root is reachable.
     */
    public static NoFollowRootedFiles resolvingInsideRoot(NativeFiles files) {
        return new NoFollowRootedFiles(files, true);
    }

    private int open(int rootFd, byte[] path, int flags) {
        return followInsideRoot ? files.openResolvingInRoot(rootFd, path, flags) : files.openInRoot(rootFd, path, flags);
    }

    /** Uses openat2 where the kernel has it. */
    public static NoFollowRootedFiles create() {
        return new NoFollowRootedFiles(NativeFiles.load());
    }

    @Override
    public Optional<FileFacts> stat(Path root, String path) throws IOException {
        int rootFd = files.openRoot(root.toString());
        try {
            int fd = open(rootFd, PathBytes.encode(path), NativeFiles.O_PATH | files.oNoFollow());
            if (fd < 0) {
                return Optional.empty();
            }
            try {
                NativeFiles.Stat stat = files.newStat();
                return files.fstat(fd, stat) == 0 ? Optional.of(stat.toFacts()) : Optional.empty();
            } finally {
                files.close(fd);
            }
        } finally {
            files.close(rootFd);
        }
    }

    @Override
    public Optional<String> sha256(Path root, String path, long maxBytes) throws IOException {
        int rootFd = files.openRoot(root.toString());
        try {
            return sha256InRoot(rootFd, PathBytes.encode(path), maxBytes);
        } finally {
            files.close(rootFd);
        }
    }

    @Override
    public Optional<String> readLink(Path root, String path, int maxBytes) throws IOException {
        int rootFd = files.openRoot(root.toString());
        try {
            int fd = files.openInRoot(rootFd, PathBytes.encode(path), NativeFiles.O_PATH | files.oNoFollow());
            if (fd < 0) {
                return Optional.empty();
            }
            try {
                NativeFiles.Stat stat = files.newStat();
                if (files.fstat(fd, stat) != 0 || stat.type() != FileFacts.Type.SYMLINK) {
                    return Optional.empty();
                }
                return files.readLink(fd, new byte[] {0}, maxBytes).map(PathBytes::decode);
            } finally {
                files.close(fd);
            }
        } finally {
            files.close(rootFd);
        }
    }

    private Optional<String> sha256InRoot(int rootFd, byte[] path, long maxBytes) throws IOException {
        NativeFiles.Stat stat = files.newStat();
        int handle = open(rootFd, path, NativeFiles.O_PATH | (followInsideRoot ? 0 : files.oNoFollow()));
        if (handle < 0) {
            return Optional.empty();
        }
        long ino;
        long dev;
        try {
            if (files.fstat(handle, stat) != 0 || stat.type() != FileFacts.Type.REGULAR || stat.size() > maxBytes) {
                return Optional.empty();
            }
            ino = stat.ino();
            dev = stat.dev();
        } finally {
            files.close(handle);
        }
        int fd = open(rootFd, path, NativeFiles.O_RDONLY | NativeFiles.O_NONBLOCK
                | (followInsideRoot ? 0 : files.oNoFollow()));
        if (fd < 0) {
            return Optional.empty();
        }
        try {
            if (files.fstat(fd, stat) != 0 || stat.type() != FileFacts.Type.REGULAR || stat.ino() != ino
                    || stat.dev() != dev) {
                return Optional.empty();
            }
            return digest(fd, maxBytes);
        } finally {
            files.close(fd);
        }
    }

    private Optional<String> digest(int fd, long maxBytes) throws IOException {
        MessageDigest sha = newSha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(READ_CHUNK);
        long total = 0;
        while (true) {
            buffer.clear();
            long n = files.read(fd, buffer, READ_CHUNK);
            if (n < 0) {
                throw new IOException("read failed: errno " + (-n));
            }
            if (n == 0) {
                break;
            }
            total += n;
            if (total > maxBytes) {
                return Optional.empty(); // grew past the bound while we read it
            }
            buffer.position(0).limit((int) n);
            sha.update(buffer);
        }
        return Optional.of(HexFormat.of().formatHex(sha.digest()));
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every JRE has SHA-256", impossible);
        }
    }
}
