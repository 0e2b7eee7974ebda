package io.driftagent.agent.fs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test stand-in for the real hostile-safe RootedFiles: java.nio with NOFOLLOW_LINKS on every component (every
 * parent must be a real directory), FIFOs and devices never opened, reads bounded. Counts its calls.
 */
public final class FakeNioRootedFiles implements RootedFiles {

    public final AtomicInteger stats = new AtomicInteger();
    public final AtomicInteger reads = new AtomicInteger();

    @Override
    public Optional<FileFacts> stat(Path root, String path) throws IOException {
        stats.incrementAndGet();
        Path resolved = walk(root, path);
        if (resolved == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(facts(resolved));
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<String> sha256(Path root, String path, long maxBytes) throws IOException {
        Optional<FileFacts> facts = stat(root, path);
        if (facts.isEmpty() || facts.get().type() != FileFacts.Type.REGULAR || facts.get().size() > maxBytes) {
            return Optional.empty();
        }
        reads.incrementAndGet();
        try (InputStream in = Files.newInputStream(walk(root, path), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[65536];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                if (total > maxBytes) {
                    return Optional.empty();
                }
                digest.update(buffer, 0, n);
            }
            return Optional.of(HexFormat.of().formatHex(digest.digest()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Optional<String> readLink(Path root, String path, int maxBytes) throws IOException {
        Path resolved = walk(root, path);
        if (resolved == null || !Files.isSymbolicLink(resolved)) {
            return Optional.empty();
        }
        String target = Files.readSymbolicLink(resolved).toString();
        return target.length() > maxBytes ? Optional.empty() : Optional.of(target);
    }

    /** root/path with every parent checked to be a directory (not a symlink); null when not reachable. */
    private static Path walk(Path root, String path) throws IOException {
        Path current = root;
        String[] parts = path.split("/");
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                return null;
            }
            current = current.resolve(part);
            boolean last = i == parts.length - 1;
            if (!last && !Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
                return null;
            }
        }
        return current;
    }

    private static FileFacts facts(Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:mode,size,dev,ino,lastModifiedTime,ctime,nlink",
                LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        FileFacts.Type type = switch (mode & 0170000) {
            case 0100000 -> FileFacts.Type.REGULAR;
            case 0040000 -> FileFacts.Type.DIRECTORY;
            case 0120000 -> FileFacts.Type.SYMLINK;
            case 0020000 -> FileFacts.Type.CHAR_DEVICE;
            case 0060000 -> FileFacts.Type.BLOCK_DEVICE;
            case 0010000 -> FileFacts.Type.FIFO;
            case 0140000 -> FileFacts.Type.SOCKET;
            default -> FileFacts.Type.UNKNOWN;
        };
        FileTime mtime = (FileTime) a.get("lastModifiedTime");
        long mtimeNs = mtime.to(java.util.concurrent.TimeUnit.NANOSECONDS);
        long ctimeNs = ((FileTime) a.get("ctime")).to(java.util.concurrent.TimeUnit.NANOSECONDS);
        return new FileFacts(type, mode & 07777, (Long) a.get("size"), (Long) a.get("dev"), (Long) a.get("ino"),
                mtimeNs, ctimeNs, ((Integer) a.get("nlink")).longValue());
    }
}
