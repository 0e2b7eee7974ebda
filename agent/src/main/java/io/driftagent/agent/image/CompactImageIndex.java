package io.driftagent.agent.image;

import io.driftagent.agent.image.IndexEntry.EntryType;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The immutable merged view of one image in primitive arrays.
 *
 * <p>Layout: entries are grouped by parent directory. A directory is one String of its path (the root is "") and
 * one String holding the names of all its children separated by '/' (a byte no name contains); an entry is a few
 * array slots: parent directory, name offset, type+mode, size, layer. A power-of-two open-addressing table maps
 * {@code String.hashCode()} of the full path to the entry, so a lookup hashes the query once and compares it with
 * {@code regionMatches} against the two Strings, without allocating. Symlink targets live in a side table (only
 * symlinks pay for them). sha256s are kept as 32 raw bytes, precomputed (tar builds) or filled lazily through a
 * {@link ContentHasher} (layer-directory builds).
 */
public final class CompactImageIndex implements ImageIndex {

    private static final int MAX_SYMLINK_HOPS = 40; // Linux MAXSYMLINKS
    private static final EntryType[] TYPES = EntryType.values();

    private final String identity;
    private final String[] layers;
    private final String[] dirPaths;
    private final String[] dirNames;
    private final int[] parent;
    private final int[] nameStart;
    private final int[] typeMode;
    private final long[] sizes;
    private final short[] layerOf;
    private final int[] symlinkEntries;
    private final String[] symlinkTargets;
    private final AtomicReferenceArray<byte[]> hashes;
    private final int[] table;
    private final int tableMask;
    private final ContentHasher hasher;
    private final long structureBytes;
    private final AtomicLong hashBytes = new AtomicLong();

    CompactImageIndex(String identity, String[] layers, String[] dirPaths, String[] dirNames, int[] parent,
                      int[] nameStart, int[] typeMode, long[] sizes, short[] layerOf, int[] symlinkEntries,
                      String[] symlinkTargets, byte[][] precomputedHashes, ContentHasher hasher) {
        this.identity = identity;
        this.layers = layers;
        this.dirPaths = dirPaths;
        this.dirNames = dirNames;
        this.parent = parent;
        this.nameStart = nameStart;
        this.typeMode = typeMode;
        this.sizes = sizes;
        this.layerOf = layerOf;
        this.symlinkEntries = symlinkEntries;
        this.symlinkTargets = symlinkTargets;
        this.hasher = hasher;
        int n = parent.length;
        this.hashes = new AtomicReferenceArray<>(n);
        long precomputed = 0;
        for (int i = 0; i < n; i++) {
            if (precomputedHashes[i] != null) {
                hashes.set(i, precomputedHashes[i]);
                precomputed++;
            }
        }
        hashBytes.set(precomputed * HASH_OBJECT_BYTES);
        int capacity = Integer.highestOneBit(Math.max(4, n + n / 3)) << 1;
        this.table = new int[capacity];
        this.tableMask = capacity - 1;
        for (int i = 0; i < n; i++) {
            int slot = spread(pathHash(i)) & tableMask;
            while (table[slot] != 0) {
                slot = (slot + 1) & tableMask;
            }
            table[slot] = i + 1;
        }
        this.structureBytes = measureStructure();
    }

    private static final long HASH_OBJECT_BYTES = 16 + 32;

    private static int spread(int h) {
        int x = h * 0x9E3779B9;
        return x ^ (x >>> 15);
    }

    private int pathHash(int entry) {
        String dir = dirPaths[parent[entry]];
        int h = dir.hashCode() * 31 + '/';
        String names = dirNames[parent[entry]];
        int end = nameEnd(entry);
        for (int i = nameStart[entry]; i < end; i++) {
            h = 31 * h + names.charAt(i);
        }
        return h;
    }

    private int nameEnd(int entry) {
        String names = dirNames[parent[entry]];
        int end = names.indexOf('/', nameStart[entry]);
        return end < 0 ? names.length() : end;
    }

    /** Whether {@code path[0, end)} is the path of the entry. */
    private boolean pathEquals(int entry, String path, int end) {
        String dir = dirPaths[parent[entry]];
        int dirLength = dir.length();
        int start = nameStart[entry];
        int nameLength = nameEnd(entry) - start;
        return end == dirLength + 1 + nameLength
                && path.charAt(dirLength) == '/'
                && path.startsWith(dir)
                && path.regionMatches(dirLength + 1, dirNames[parent[entry]], start, nameLength);
    }

    /** Entry number of a normal path, or -1. */
    int indexOf(String normalPath) {
        return indexOf(normalPath, normalPath.length(), normalPath.hashCode());
    }

    /** Entry number of the normal path {@code path[0, end)} whose String hash is {@code hash}, or -1. */
    private int indexOf(String path, int end, int hash) {
        int slot = spread(hash) & tableMask;
        while (true) {
            int candidate = table[slot];
            if (candidate == 0) {
                return -1;
            }
            if (pathEquals(candidate - 1, path, end)) {
                return candidate - 1;
            }
            slot = (slot + 1) & tableMask;
        }
    }

    String pathOf(int entry) {
        String dir = dirPaths[parent[entry]];
        return dir + "/" + dirNames[parent[entry]].substring(nameStart[entry], nameEnd(entry));
    }

    EntryType typeOf(int entry) {
        return TYPES[typeMode[entry] >>> 16];
    }

    private String linkTargetOf(int entry) {
        int at = Arrays.binarySearch(symlinkEntries, entry);
        return at >= 0 ? symlinkTargets[at] : null;
    }

    private IndexEntry entry(int e) {
        return entry(e, pathOf(e));
    }

    private IndexEntry entry(int e, String path) {
        return new IndexEntry(path, typeOf(e), typeMode[e] & 07777, sizes[e], layers[layerOf[e]],
                typeOf(e) == EntryType.SYMLINK ? linkTargetOf(e) : null);
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public Optional<IndexEntry> lookup(String absolutePath) {
        String normal = ImagePaths.normalize(absolutePath);
        if (normal == null) {
            return Optional.empty();
        }
        int e = indexOf(normal);
        return e < 0 ? Optional.empty() : Optional.of(entry(e, normal));
    }

    @Override
    public Optional<IndexEntry> resolve(String absolutePath) {
        int e = resolveIndex(absolutePath);
        return e < 0 ? Optional.empty() : Optional.of(entry(e));
    }

    /**
     * Walks the path component by component like the kernel would inside the image's root: symlinks (relative or
     * absolute; absolute ones restart at the image root) are followed from the index only, ".." stops at the root,
     * at most 40 symlinks; -1 when a component is missing, not a directory, or the walk loops.
     */
    int resolveIndex(String absolutePath) {
        String path = absolutePath;
        if (!ImagePaths.isNormal(path)) {
            return resolveByWalking(absolutePath);
        }
        for (int hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
            long found = resolveWithoutSymlinks(path);
            if (found >= -1) {
                return (int) found;
            }
            int end = (int) ((found >>> 32) & 0x7fffffffL);
            String target = linkTargetOf((int) found);
            if (target == null || target.isEmpty()) {
                return -1;
            }
            String linkParent = ImagePaths.parent(path.substring(0, end));
            String joined = target.startsWith("/") ? target
                    : (linkParent.equals("/") ? "" : linkParent) + "/" + target;
            String next = ImagePaths.normalize(joined + path.substring(end));
            if (next == null) {
                return resolveByWalking(absolutePath); // ".." in a target: the component walk handles it
            }
            path = next;
        }
        return -1;
    }

    /**
     * The common case without allocation: every prefix of a normal path is a directory and the last component is
     * not a symlink. Hashes each prefix incrementally (String's polynomial hash). Returns the entry, -1, or for
     * the first symlink met {@code Long.MIN_VALUE | (prefixEnd << 32) | entry}.
     */
    private long resolveWithoutSymlinks(String path) {
        int hash = 0;
        int length = path.length();
        for (int i = 0; i < length; i++) {
            char c = path.charAt(i);
            if (c == '/' && i > 0) {
                int e = indexOf(path, i, hash);
                if (e < 0) {
                    return -1;
                }
                EntryType type = typeOf(e);
                if (type == EntryType.SYMLINK) {
                    return Long.MIN_VALUE | ((long) i << 32) | e;
                }
                if (type != EntryType.DIRECTORY) {
                    return -1;
                }
            }
            hash = 31 * hash + c;
        }
        int e = indexOf(path, length, hash);
        if (e >= 0 && typeOf(e) == EntryType.SYMLINK) {
            return Long.MIN_VALUE | ((long) length << 32) | e;
        }
        return e;
    }

    int resolveByWalking(String absolutePath) {
        Deque<String> todo = new ArrayDeque<>(ImagePaths.components(absolutePath));
        StringBuilder current = new StringBuilder();
        int hops = 0;
        int currentEntry = indexOf("/");
        while (!todo.isEmpty()) {
            String component = todo.pollFirst();
            if (component.equals(".")) {
                continue;
            }
            if (component.equals("..")) {
                int slash = current.lastIndexOf("/");
                current.setLength(Math.max(slash, 0));
                currentEntry = indexOf(current.length() == 0 ? "/" : current.toString());
                continue;
            }
            if (currentEntry < 0 || typeOf(currentEntry) != EntryType.DIRECTORY) {
                return -1;
            }
            int length = current.length();
            current.append('/').append(component);
            int e = indexOf(current.toString());
            if (e < 0) {
                return -1;
            }
            if (typeOf(e) == EntryType.SYMLINK) {
                if (++hops > MAX_SYMLINK_HOPS) {
                    return -1;
                }
                String target = linkTargetOf(e);
                current.setLength(length);
                if (target == null || target.isEmpty()) {
                    return -1;
                }
                if (target.startsWith("/")) {
                    current.setLength(0);
                }
                List<String> parts = ImagePaths.components(target);
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.addFirst(parts.get(i));
                }
                currentEntry = indexOf(current.length() == 0 ? "/" : current.toString());
                continue;
            }
            currentEntry = e;
        }
        return currentEntry;
    }

    @Override
    public String sha256(IndexEntry entry) throws IOException {
        int e = indexOf(entry.path());
        if (e < 0 || typeOf(e) != EntryType.REGULAR) {
            throw new IllegalArgumentException("not a regular file of this image: " + entry.path());
        }
        byte[] known = hashes.get(e);
        if (known == null) {
            String hex = hasher.sha256(layers[layerOf[e]], entry.path());
            known = HexFormat.of().parseHex(hex);
            if (hashes.compareAndSet(e, null, known)) {
                hashBytes.addAndGet(HASH_OBJECT_BYTES);
            }
        }
        return HexFormat.of().formatHex(known);
    }

    /** The sha256 if it is already known (no I/O), else empty. */
    public Optional<String> knownSha256(IndexEntry entry) {
        int e = indexOf(entry.path());
        if (e < 0) {
            return Optional.empty();
        }
        byte[] known = hashes.get(e);
        return known == null ? Optional.empty() : Optional.of(HexFormat.of().formatHex(known));
    }

    @Override
    public int size() {
        return parent.length;
    }

    /** Position of the entry's layer, 0 = top. */
    public int layerPosition(IndexEntry entry) {
        return Arrays.asList(layers).indexOf(entry.layer());
    }

    /** Every entry in path order (for comparisons and diagnostics; allocates). */
    public List<IndexEntry> entries() {
        IndexEntry[] all = new IndexEntry[parent.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = entry(i);
        }
        Arrays.sort(all, (a, b) -> a.path().compareTo(b.path()));
        return List.of(all);
    }

    /** Heap held by the structure, excluding sha256 values. */
    public long structureBytes() {
        return structureBytes;
    }

    @Override
    public long estimatedBytes() {
        return structureBytes + hashBytes.get();
    }

    private long measureStructure() {
        long bytes = 0;
        bytes += array(parent.length, 4) * 3; // parent, nameStart, typeMode
        bytes += array(sizes.length, 8);
        bytes += array(layerOf.length, 2);
        bytes += array(table.length, 4);
        bytes += array(parent.length, 4); // hash reference slots (compressed oops)
        bytes += array(symlinkEntries.length, 4) + array(symlinkTargets.length, 4);
        bytes += array(dirPaths.length, 4) * 2 + array(layers.length, 4);
        for (String s : symlinkTargets) {
            bytes += stringBytes(s);
        }
        for (String s : dirPaths) {
            bytes += stringBytes(s);
        }
        for (String s : dirNames) {
            bytes += stringBytes(s);
        }
        for (String s : layers) {
            bytes += stringBytes(s);
        }
        return bytes + 128;
    }

    private static long array(long length, int elementBytes) {
        return align(16 + length * elementBytes);
    }

    private static long stringBytes(String s) {
        boolean latin1 = s.chars().allMatch(c -> c < 256);
        return 24 + array(s.length(), latin1 ? 1 : 2);
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }
}
