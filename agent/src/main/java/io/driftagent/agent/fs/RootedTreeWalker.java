package io.driftagent.agent.fs;

import io.driftagent.agent.host.Errno;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Optional;
import jnr.ffi.Pointer;

/**
 * Walks a directory tree an attacker may have shaped (an image layer directory) without following any symlink:
 * every directory is reopened from the root fd with the symlink-refusing resolution of {@link NativeFiles}, entries
 * are read with getdents64 and statx'ed relative to their directory fd, names stay bytes until decoded with
 * {@link PathBytes}. Only one directory fd is open at a time, so a deep tree cannot exhaust descriptors; depth and
 * entry count are bounded and exceeding them fails the walk (a partial image index would misclassify).
 */
public final class RootedTreeWalker {

    /** Receives each entry; directories are reported before their contents. */
    @FunctionalInterface
    public interface Visitor {
        void visit(TreeEntry entry) throws IOException;
    }

    private static final int DIRENT_BUFFER = 64 * 1024;
    private static final int MAX_LINK_TARGET = 4096;
    private static final String[] OPAQUE_XATTRS = {"trusted.overlay.opaque", "user.overlay.opaque"};

    private final NativeFiles files;
    private final int maxDepth;
    private final long maxEntries;

    public RootedTreeWalker(NativeFiles files, int maxDepth, long maxEntries) {
        if (maxDepth < 1 || maxEntries < 1) {
            throw new IllegalArgumentException("bounds must be positive");
        }
        this.files = files;
        this.maxDepth = maxDepth;
        this.maxEntries = maxEntries;
    }

    /** Walks everything under {@code root} (the root itself is not reported). */
    public void walk(Path root, Visitor visitor) throws IOException {
        int rootFd = files.openRoot(root.toString());
        try {
            walkFrom(rootFd, root, visitor);
        } finally {
            files.close(rootFd);
        }
    }

    private record Pending(byte[] relative, String path, int depth) {
    }

    private void walkFrom(int rootFd, Path root, Visitor visitor) throws IOException {
        Pointer dirents = files.allocate(DIRENT_BUFFER);
        NativeFiles.Stat stat = files.newStat();
        Deque<Pending> pending = new ArrayDeque<>();
        pending.push(new Pending(new byte[0], "", 0));
        long entries = 0;
        byte[] nameBuffer = new byte[256];
        while (!pending.isEmpty()) {
            Pending dir = pending.pop();
            int fd = files.openInRoot(rootFd, dir.relative(), NativeFiles.O_RDONLY | NativeFiles.O_NONBLOCK
                    | files.oDirectory() | files.oNoFollow());
            if (fd < 0) {
                if (-fd == Errno.ENOENT && dir.depth() > 0) {
                    continue; // vanished while we walked
                }
                throw new IOException("cannot open directory " + root + dir.path() + ": errno " + (-fd));
            }
            try {
                while (true) {
                    long filled = files.getdents(fd, dirents, DIRENT_BUFFER);
                    if (filled < 0) {
                        throw new IOException("getdents failed in " + root + dir.path() + ": errno " + (-filled));
                    }
                    if (filled == 0) {
                        break;
                    }
                    int offset = 0;
                    while (offset < filled) {
                        int recordLength = dirents.getShort(offset + 16) & 0xffff;
                        int nameLength = nameLength(dirents, offset + 19, recordLength - 19);
                        if (nameBuffer.length < nameLength + 1) {
                            nameBuffer = new byte[nameLength + 1];
                        }
                        dirents.get(offset + 19, nameBuffer, 0, nameLength);
                        offset += recordLength;
                        if (isDotOrDotDot(nameBuffer, nameLength)) {
                            continue;
                        }
                        if (++entries > maxEntries) {
                            throw new IOException("more than " + maxEntries + " entries under " + root);
                        }
                        byte[] cName = Arrays.copyOf(nameBuffer, nameLength + 1);
                        cName[nameLength] = 0;
                        if (files.statAt(fd, cName, stat) != 0) {
                            continue; // vanished between getdents and statx
                        }
                        String path = dir.path() + "/" + PathBytes.decode(cName, 0, nameLength);
                        FileFacts facts = stat.toFacts();
                        String target = null;
                        boolean opaque = false;
                        if (facts.type() == FileFacts.Type.SYMLINK) {
                            Optional<byte[]> bytes = files.readLink(fd, cName, MAX_LINK_TARGET);
                            target = bytes.map(PathBytes::decode).orElse("");
                        } else if (facts.type() == FileFacts.Type.DIRECTORY) {
                            if (dir.depth() + 1 > maxDepth) {
                                throw new IOException("directory tree deeper than " + maxDepth + " under " + root);
                            }
                            byte[] childRelative = childOf(dir.relative(), cName, nameLength);
                            opaque = isOpaque(fd, cName);
                            pending.push(new Pending(childRelative, path, dir.depth() + 1));
                        }
                        visitor.visit(new TreeEntry(path, facts, stat.rdevMajor(), stat.rdevMinor(), target, opaque));
                    }
                }
            } finally {
                files.close(fd);
            }
        }
    }

    private boolean isOpaque(int parentFd, byte[] cName) {
        int fd = files.libc().openat(parentFd, cName, NativeFiles.O_RDONLY | NativeFiles.O_NONBLOCK
                | NativeFiles.O_CLOEXEC | files.oDirectory() | files.oNoFollow(), 0);
        if (fd < 0) {
            return false;
        }
        try {
            for (String name : OPAQUE_XATTRS) {
                Optional<byte[]> value = files.getXattr(fd, name, 16);
                if (value.isPresent() && value.get().length == 1 && value.get()[0] == 'y') {
                    return true;
                }
            }
            return false;
        } finally {
            files.close(fd);
        }
    }

    private static int nameLength(Pointer buffer, int start, int max) {
        for (int i = 0; i < max; i++) {
            if (buffer.getByte(start + i) == 0) {
                return i;
            }
        }
        return max;
    }

    private static boolean isDotOrDotDot(byte[] name, int length) {
        return (length == 1 && name[0] == '.') || (length == 2 && name[0] == '.' && name[1] == '.');
    }

    private static byte[] childOf(byte[] parent, byte[] name, int nameLength) {
        int sep = parent.length == 0 ? 0 : 1;
        byte[] child = new byte[parent.length + sep + nameLength];
        System.arraycopy(parent, 0, child, 0, parent.length);
        if (sep == 1) {
            child[parent.length] = '/';
        }
        System.arraycopy(name, 0, child, parent.length + sep, nameLength);
        return child;
    }
}
