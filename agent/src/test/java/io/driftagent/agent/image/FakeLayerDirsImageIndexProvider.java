package io.driftagent.agent.image;

import io.driftagent.agent.attribution.OverlayRoot;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A test stand-in for the real image index: walks the unpacked lower dirs with java.nio (bottom layer first, char
 * device 0/0 whiteouts applied), hashes lazily (once per entry) from the layer file, and counts builds, releases and
 * hashes.
 */
public final class FakeLayerDirsImageIndexProvider implements ImageIndexProvider {

    public final AtomicInteger builds = new AtomicInteger();
    public final AtomicInteger releases = new AtomicInteger();
    public final AtomicInteger hashes = new AtomicInteger();
    private final Map<List<Path>, Index> built = new HashMap<>();

    @Override
    public synchronized ImageIndex indexFor(OverlayRoot root) throws IOException {
        Index index = built.get(root.lowerDirs());
        if (index == null) {
            for (Path lower : root.lowerDirs()) {
                if (!Files.isDirectory(lower)) {
                    throw new IOException("layer missing: " + lower);
                }
            }
            index = new Index(root.lowerDirs());
            built.put(root.lowerDirs(), index);
            builds.incrementAndGet();
        }
        return index;
    }

    @Override
    public synchronized void release(OverlayRoot root) {
        releases.incrementAndGet();
    }

    private final class Index implements ImageIndex {
        private final Map<String, IndexEntry> entries = new HashMap<>();
        private final Map<String, Path> files = new HashMap<>();
        private final Map<String, String> digests = new java.util.concurrent.ConcurrentHashMap<>();

        Index(List<Path> lowersTopFirst) throws IOException {
            List<Path> bottomFirst = new ArrayList<>(lowersTopFirst);
            java.util.Collections.reverse(bottomFirst);
            for (Path layer : bottomFirst) {
                try (Stream<Path> walk = Files.walk(layer)) {
                    for (Path p : (Iterable<Path>) walk::iterator) {
                        apply(layer, p);
                    }
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
        }

        private void apply(Path layer, Path p) throws IOException {
            String path = "/" + layer.relativize(p);
            if (path.equals("/")) {
                return;
            }
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,size,rdev", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int fmt = mode & 0170000;
            if (fmt == 0020000 && ((Long) a.get("rdev")) == 0L) {
                entries.keySet().removeIf(k -> k.equals(path) || k.startsWith(path + "/"));
                files.keySet().removeIf(k -> k.equals(path) || k.startsWith(path + "/"));
                return;
            }
            IndexEntry.EntryType type = switch (fmt) {
                case 0100000 -> IndexEntry.EntryType.REGULAR;
                case 0040000 -> IndexEntry.EntryType.DIRECTORY;
                case 0120000 -> IndexEntry.EntryType.SYMLINK;
                case 0020000 -> IndexEntry.EntryType.CHAR_DEVICE;
                case 0060000 -> IndexEntry.EntryType.BLOCK_DEVICE;
                case 0010000 -> IndexEntry.EntryType.FIFO;
                default -> IndexEntry.EntryType.SOCKET;
            };
            String link = type == IndexEntry.EntryType.SYMLINK ? Files.readSymbolicLink(p).toString() : null;
            entries.put(path, new IndexEntry(path, type, mode & 07777, (Long) a.get("size"), layer.toString(), link));
            files.put(path, p);
        }

        @Override
        public String identity() {
            return "dirs:" + files.size();
        }

        @Override
        public Optional<IndexEntry> lookup(String absolutePath) {
            return Optional.ofNullable(entries.get(absolutePath));
        }

        @Override
        public Optional<IndexEntry> resolve(String absolutePath) {
            List<String> pending = new ArrayList<>(List.of(absolutePath.split("/")));
            List<String> done = new ArrayList<>();
            int links = 0;
            IndexEntry last = null;
            while (!pending.isEmpty()) {
                String name = pending.remove(0);
                if (name.isEmpty() || name.equals(".")) {
                    continue;
                }
                if (name.equals("..")) {
                    if (!done.isEmpty()) {
                        done.remove(done.size() - 1);
                    }
                    continue;
                }
                done.add(name);
                last = entries.get("/" + String.join("/", done));
                if (last == null) {
                    return Optional.empty();
                }
                if (last.type() == IndexEntry.EntryType.SYMLINK) {
                    if (++links > 40) {
                        return Optional.empty();
                    }
                    done.remove(done.size() - 1);
                    if (last.linkTarget().startsWith("/")) {
                        done.clear();
                    }
                    pending.addAll(0, List.of(last.linkTarget().split("/")));
                    last = null;
                }
            }
            return Optional.ofNullable(last);
        }

        @Override
        public String sha256(IndexEntry entry) throws IOException {
            String known = digests.get(entry.path());
            if (known != null) {
                return known; // like the real index: computed lazily, once
            }
            String digest = computeSha256(entry);
            digests.put(entry.path(), digest);
            return digest;
        }

        private String computeSha256(IndexEntry entry) throws IOException {
            hashes.incrementAndGet();
            try (InputStream in = Files.newInputStream(files.get(entry.path()), LinkOption.NOFOLLOW_LINKS)) {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                byte[] buffer = new byte[65536];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    digest.update(buffer, 0, n);
                }
                return HexFormat.of().formatHex(digest.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int size() {
            return entries.size();
        }

        @Override
        public long estimatedBytes() {
            return entries.size() * 200L;
        }
    }
}
