package io.driftagent.agent.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads a trusted host file (a policy file, possibly behind a ConfigMap's {@code ..data} symlinks) without ever
 * blocking on what stands there instead: the path's symlinks are resolved first, then the final file is looked at
 * without following ({@code O_PATH|O_NOFOLLOW}, statx) and refused unless it is a regular file, then opened
 * {@code O_NONBLOCK|O_NOFOLLOW} and checked again to be the same regular file (it may have been swapped in
 * between). A FIFO with no writer or a device is never opened for reading.
 */
public final class RegularFiles {
    private static final int CHUNK = 64 * 1024;
    private static final int AT_FDCWD = -100;

    private final NativeFiles files;

    public RegularFiles(NativeFiles files) {
        this.files = Objects.requireNonNull(files, "files");
    }

    public static RegularFiles create() {
        return new RegularFiles(NativeFiles.load());
    }

    /** The file at the end of the path is not a regular file; {@link #type()} says what it is. */
    public static final class NotRegularFileException extends FileSystemException {
        private static final long serialVersionUID = 1L;
        private final FileFacts.Type type;

        NotRegularFileException(Path file, FileFacts.Type type) {
            super(file.toString(), null, "is " + describe(type) + ", not a regular file: not read");
            this.type = type;
        }

        public FileFacts.Type type() {
            return type;
        }
    }

    /**
     * The first {@code maxBytes + 1} bytes at most of the regular file {@code file} resolves to (one byte more than
     * allowed tells the caller it is too large without reading it whole).
     *
     * @throws java.nio.file.NoSuchFileException when it is absent
     * @throws NotRegularFileException when it is a FIFO, directory, device, socket
     * @throws IOException when it cannot be read (the message has the errno)
     */
    public byte[] read(Path file, int maxBytes) throws IOException {
        Path target = file.toRealPath();
        byte[] path = PathBytes.encodeCString(target.toString());
        NativeFiles.Stat stat = files.newStat();
        int handle = files.libc().openat(AT_FDCWD, path, NativeFiles.O_PATH | NativeFiles.O_CLOEXEC | files.oNoFollow(), 0);
        if (handle < 0) {
            throw failure(target, "cannot open", files.errno());
        }
        long dev;
        long ino;
        try {
            int r = files.fstat(handle, stat);
            if (r != 0) {
                throw failure(target, "cannot stat", -r);
            }
            if (stat.type() != FileFacts.Type.REGULAR) {
                throw new NotRegularFileException(target, stat.type());
            }
            dev = stat.dev();
            ino = stat.ino();
        } finally {
            files.close(handle);
        }
        int fd = files.libc().openat(AT_FDCWD, path,
                NativeFiles.O_RDONLY | NativeFiles.O_NONBLOCK | NativeFiles.O_CLOEXEC | files.oNoFollow(), 0);
        if (fd < 0) {
            throw failure(target, "cannot open", files.errno());
        }
        try {
            int r = files.fstat(fd, stat);
            if (r != 0) {
                throw failure(target, "cannot stat", -r);
            }
            if (stat.type() != FileFacts.Type.REGULAR) {
                throw new NotRegularFileException(target, stat.type());
            }
            if (stat.dev() != dev || stat.ino() != ino) {
                throw new FileSystemException(target.toString(), null, "replaced while it was opened; try again");
            }
            return readAll(target, fd, maxBytes + 1);
        } finally {
            files.close(fd);
        }
    }

    private byte[] readAll(Path target, int fd, int limit) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        byte[] content = new byte[Math.min(limit, CHUNK)];
        int total = 0;
        while (total < limit) {
            chunk.clear();
            long n = files.read(fd, chunk, Math.min(CHUNK, limit - total));
            if (n < 0) {
                throw failure(target, "cannot read", (int) -n);
            }
            if (n == 0) {
                break;
            }
            if (total + n > content.length) {
                content = Arrays.copyOf(content, (int) Math.min(limit, Math.max(content.length * 2L, total + n)));
            }
            chunk.position(0).limit((int) n);
            chunk.get(content, total, (int) n);
            total += (int) n;
        }
        return total == content.length ? content : Arrays.copyOf(content, total);
    }

    private static IOException failure(Path target, String what, int errno) {
        return new FileSystemException(target.toString(), null, what + " (errno " + errno + ")");
    }

    static String describe(FileFacts.Type type) {
        return switch (type) {
            case FIFO -> "a FIFO";
            case DIRECTORY -> "a directory";
            case SYMLINK -> "a symlink";
            case CHAR_DEVICE -> "a character device";
            case BLOCK_DEVICE -> "a block device";
            case SOCKET -> "a socket";
            case REGULAR -> "a regular file";
            default -> "a special file of unknown type";
        };
    }
}
