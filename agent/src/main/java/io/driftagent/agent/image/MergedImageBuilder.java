package io.driftagent.agent.image;

import io.driftagent.agent.image.IndexEntry.EntryType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Merges layers into one image view exactly as overlayfs does, fed top layer first (overlay's lookup order): a
 * path provided by an upper layer hides the same path below; a whiteout hides the path and everything under it
 * below; an opaque directory hides everything below under it; an upper non-directory hides everything below
 * under its path. Whiteouts and opaque markers apply to lower layers only, never to their own layer.
 * Tar hard links are resolved inside their layer to the target's regular file (overlay shows them as the same
 * inode); a hard link whose target is not in its own layer stays {@link EntryType#HARDLINK}.
 * Not thread-safe; one builder per build.
 */
final class MergedImageBuilder {

    private static final byte WHITEOUT = 1;
    private static final byte OPAQUE = 2;
    private static final byte NON_DIRECTORY = 3;
    private static final int ROOT_MODE = 0755;

    private record Pending(EntryType type, int mode, long size, String linkTarget, byte[] sha256, int layer) {
    }

    private final String identity;
    private final List<String> layers;
    private final Map<String, Pending> merged = new HashMap<>();
    private final Map<String, Byte> barriers = new HashMap<>();
    private Map<String, Pending> layerEntries = new LinkedHashMap<>();
    private Set<String> layerWhiteouts = new HashSet<>();
    private Set<String> layerOpaque = new HashSet<>();
    private int currentLayer = -1;
    private final long maxEntries;

    /** @param layersTopFirst layer identities, top first; layers must then be fed in that order */
    MergedImageBuilder(String identity, List<String> layersTopFirst, long maxEntries) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.layers = layersTopFirst.isEmpty() ? List.of("(no layers)") : List.copyOf(layersTopFirst);
        if (layers.size() > Short.MAX_VALUE) {
            throw new IllegalArgumentException("too many layers: " + layers.size());
        }
        this.maxEntries = maxEntries;
    }

    void beginLayer(int position) {
        if (position != currentLayer + 1 || position >= layers.size()) {
            throw new IllegalStateException("layers must be fed top first, one after the other");
        }
        currentLayer = position;
        layerEntries = new LinkedHashMap<>();
        layerWhiteouts = new HashSet<>();
        layerOpaque = new HashSet<>();
    }

    /** Adds a path of the current layer (normal form); a later add of the same path in one layer replaces it. */
    void add(String path, EntryType type, int mode, long size, String linkTarget, byte[] sha256) {
        if (path.equals("/")) {
            return; // the root is synthesised: layers disagree about it (tar "./" vs the snapshot dir)
        }
        if (merged.size() + layerEntries.size() >= maxEntries) {
            throw new IllegalStateException("image has more than " + maxEntries + " entries");
        }
        long regularSize = type == EntryType.REGULAR ? size : 0;
        layerEntries.put(path, new Pending(type, mode & 07777, regularSize,
                type == EntryType.SYMLINK || type == EntryType.HARDLINK ? linkTarget : null, sha256, currentLayer));
    }

    void whiteout(String path) {
        layerWhiteouts.add(path);
    }

    void opaque(String directory) {
        layerOpaque.add(directory);
    }

    void endLayer() {
        addImplicitParents();
        for (Map.Entry<String, Pending> e : layerEntries.entrySet()) {
            String path = e.getKey();
            Pending entry = e.getValue();
            if (entry.type() == EntryType.HARDLINK) {
                entry = resolveHardLink(entry);
            }
            if (merged.containsKey(path) || hiddenByUpperLayers(path)) {
                continue;
            }
            merged.put(path, entry);
        }
        for (Map.Entry<String, Pending> e : layerEntries.entrySet()) {
            if (e.getValue().type() != EntryType.DIRECTORY) {
                barriers.putIfAbsent(e.getKey(), NON_DIRECTORY);
            }
        }
        for (String path : layerOpaque) {
            barriers.put(path, OPAQUE);
        }
        for (String path : layerWhiteouts) {
            barriers.put(path, WHITEOUT);
        }
    }

    /**
     * A layer's entries imply their parent directories in that layer: unpacking creates missing parents as root-owned
     * 0755 directories (containerd, Docker), and overlay then shows the upper layer's directory metadata.
     */
    private void addImplicitParents() {
        List<String> paths = new ArrayList<>(layerEntries.keySet());
        paths.addAll(layerWhiteouts);
        paths.addAll(layerOpaque);
        for (String path : paths) {
            String parent = ImagePaths.parent(path);
            while (!parent.equals("/") && !layerEntries.containsKey(parent)) {
                layerEntries.put(parent, new Pending(EntryType.DIRECTORY, ROOT_MODE, 0, null, null, currentLayer));
                parent = ImagePaths.parent(parent);
            }
        }
        for (String directory : layerOpaque) {
            layerEntries.putIfAbsent(directory, new Pending(EntryType.DIRECTORY, ROOT_MODE, 0, null, null,
                    currentLayer));
        }
    }

    private Pending resolveHardLink(Pending link) {
        Pending target = layerEntries.get(link.linkTarget());
        if (target == null || target.type() != EntryType.REGULAR) {
            return link;
        }
        return new Pending(EntryType.REGULAR, target.mode(), target.size(), null, target.sha256(), link.layer());
    }

    private boolean hiddenByUpperLayers(String path) {
        if (barriers.get(path) != null && barriers.get(path) == WHITEOUT) {
            return true;
        }
        String ancestor = path;
        while (true) {
            int slash = ancestor.lastIndexOf('/');
            if (slash <= 0) {
                return false;
            }
            ancestor = ancestor.substring(0, slash);
            if (barriers.containsKey(ancestor)) {
                return true;
            }
        }
    }

    CompactImageIndex build(ContentHasher hasher) {
        Map<String, Pending> all = new HashMap<>(merged);
        all.put("/", new Pending(EntryType.DIRECTORY, ROOT_MODE, 0, null, null, 0));
        for (Map.Entry<String, Pending> e : merged.entrySet()) {
            String parentPath = ImagePaths.parent(e.getKey());
            while (!all.containsKey(parentPath)) {
                all.put(parentPath, new Pending(EntryType.DIRECTORY, ROOT_MODE, 0, null, null, e.getValue().layer()));
                parentPath = ImagePaths.parent(parentPath);
            }
        }
        String[] sorted = all.keySet().toArray(String[]::new);
        Arrays.sort(sorted); // a parent sorts before its children
        // a parent that is not a directory (an image with "/a" a file and "/a/b"): overlay would not show "/a/b".
        // Sorted order visits a parent before its children, so removals cascade.
        Map<String, List<String>> byParent = new LinkedHashMap<>();
        byParent.put("\0root", new ArrayList<>(List.of("/")));
        for (String path : sorted) {
            if (path.equals("/")) {
                continue;
            }
            String parentPath = ImagePaths.parent(path);
            Pending parentEntry = all.get(parentPath);
            if (parentEntry == null || parentEntry.type() != EntryType.DIRECTORY) {
                all.remove(path);
                continue;
            }
            byParent.computeIfAbsent(parentPath, k -> new ArrayList<>()).add(path);
        }
        int n = all.size();
        int dirCount = byParent.size();
        String[] dirPaths = new String[dirCount];
        String[] dirNames = new String[dirCount];
        int[] parent = new int[n];
        int[] nameStart = new int[n];
        int[] typeMode = new int[n];
        long[] sizes = new long[n];
        short[] layerOf = new short[n];
        byte[][] hashes = new byte[n][];
        List<Integer> symlinkEntries = new ArrayList<>();
        List<String> symlinkTargets = new ArrayList<>();
        int d = 0;
        int e = 0;
        for (Map.Entry<String, List<String>> dir : byParent.entrySet()) {
            boolean pseudoRoot = dir.getKey().equals("\0root");
            dirPaths[d] = pseudoRoot || dir.getKey().equals("/") ? "" : dir.getKey();
            StringBuilder names = new StringBuilder();
            boolean first = true;
            for (String path : dir.getValue()) {
                if (!first) {
                    names.append('/');
                }
                first = false;
                Pending p = all.get(path);
                parent[e] = d;
                nameStart[e] = names.length();
                names.append(pseudoRoot ? "" : ImagePaths.name(path));
                typeMode[e] = (p.type().ordinal() << 16) | p.mode();
                sizes[e] = p.size();
                layerOf[e] = (short) p.layer();
                hashes[e] = p.sha256();
                if (p.type() == EntryType.SYMLINK) {
                    symlinkEntries.add(e);
                    symlinkTargets.add(p.linkTarget() == null ? "" : p.linkTarget());
                }
                e++;
            }
            dirNames[d] = names.toString();
            d++;
        }
        int[] symlinkIndex = symlinkEntries.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(symlinkIndex); // already ascending: entries are numbered in order
        return new CompactImageIndex(identity, layers.toArray(String[]::new), dirPaths, dirNames, parent,
                nameStart, typeMode, sizes, layerOf, symlinkIndex, symlinkTargets.toArray(String[]::new), hashes,
                hasher);
    }
}
