package io.driftagent.agent.classification;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerFilesystems;
import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.attribution.ProcessLinks;
import io.driftagent.agent.fs.FileFacts;
import io.driftagent.agent.fs.RootedFiles;
import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.image.ImageIndex;
import io.driftagent.agent.image.ImageIndexProvider;
import io.driftagent.agent.image.IndexEntry;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classifies an exec against its container's overlay root and image index (DESIGN.md, "DriftKind").
 *
 * <ol>
 *   <li>memfd or unlinked file: FILELESS.</li>
 *   <li>On the root overlay and not on the upper layer (the kernel's flag): IMAGE, without reading any file.</li>
 *   <li>On the root overlay's upper layer: the path is resolved in the container's merged view; absent from the
 *       image: ADDED; present: the upper file's sha256 (bounded, cached by dev/ino/mtime/size) against the image's:
 *       equal is IMAGE (a chmod/touch copy-up is not drift), different is MODIFIED.</li>
 *   <li>On another of the container's mounts: MOUNT, unless the image has the same bytes at that path.</li>
 *   <li>Anything that cannot be decided: UNRESOLVED with the reason.</li>
 * </ol>
 * For a {@code #!} script the event's filename and file are the script's, so the script is what is classified.
 * Thread-safe; never throws for a file it cannot read.
 */
public final class OverlayDriftClassifier implements DriftClassifier {

    private static final Logger LOG = LoggerFactory.getLogger(OverlayDriftClassifier.class);

    private final RootedFiles rootedFiles;
    private final ImageIndexProvider images;
    private final Path procRoot;
    private final HashBudget defaultBudget;
    private final MergedView mergedView;
    private final Sha256Cache hashes;
    private final Map<OverlayRoot, ImageIndex> indexes = new ConcurrentHashMap<>();
    private final LongAdder filesHashed = new LongAdder();

    /**
     * @param rootedFiles   hostile-safe reads of container files (upper layers, {@code /proc/<pid>/root})
     * @param images        the shared image indexes
     * @param procRoot      the host's {@code /proc} (for relative exec paths and files on volumes)
     * @param maxHashBytes  the hash budget of {@link #classify(ExecEvent, ContainerContext)}: larger files are not
     *                      hashed (the kind is still decided, see {@link HashBudget})
     * @param hashCacheSize digests remembered by (dev, ino, mtime, size)
     */
    public OverlayDriftClassifier(RootedFiles rootedFiles, ImageIndexProvider images, Path procRoot, long maxHashBytes,
                                  int hashCacheSize) {
        this.rootedFiles = rootedFiles;
        this.images = images;
        this.procRoot = procRoot;
        this.defaultBudget = new HashBudget(maxHashBytes);
        this.mergedView = new MergedView(rootedFiles);
        this.hashes = new Sha256Cache(hashCacheSize);
    }

    /** The pipeline's hash budget when none is given: files up to 16 MiB (about 50 ms of sha256 here at most). */
    public static final long DEFAULT_MAX_HASH_BYTES = 16L << 20;

    /** Defaults: {@link #DEFAULT_MAX_HASH_BYTES}, 16384 cached digests. */
    public OverlayDriftClassifier(RootedFiles rootedFiles, ImageIndexProvider images, Path procRoot) {
        this(rootedFiles, images, procRoot, DEFAULT_MAX_HASH_BYTES, 16_384);
    }

    @Override
    public Classification classify(ExecEvent event, ContainerContext container) {
        return classify(event, container, defaultBudget);
    }

    @Override
    public Classification classify(ExecEvent event, ContainerContext container, HashBudget budget) {
        return classify(event, container, budget, false);
    }

    /**
     * The same classification as {@link #classify(ExecEvent, ContainerContext)}, by the same code, when it needs no
     * file content (the executed file's digest is cached, or its size is over the budget so it would not be read), no
     * image index built (the container's is loaded) and at most {@link #AT_ONCE_MAX_DEPTH} path components stat'ed;
     * empty otherwise. Files on the container's other mounts and host layer paths are never classified at once.
     */
    @Override
    public Optional<Classification> classifyAtOnce(ExecEvent event, ContainerContext container) {
        return Optional.ofNullable(classify(event, container, defaultBudget, true));
    }

    /** The deepest path {@link #classifyAtOnce} walks in the writable layer (one stat per component). */
    static final int AT_ONCE_MAX_DEPTH = 16;

    /** @param atOnce null instead of anything slow: reading content, building an index, a deep walk */
    private Classification classify(ExecEvent event, ContainerContext container, HashBudget budget, boolean atOnce) {
        ExecEvent.Flags flags = event.flags();
        String rawPath = containerPath(event);
        String path = rawPath == null ? null : MergedView.normalise(rawPath);
        if (flags.memfd() || flags.unlinked()) {
            return new Classification(DriftKind.FILELESS, path == null ? event.filename() : path, null, null, null, null);
        }
        ContainerFilesystems fs = container.filesystems();
        long dev = event.file().dev();
        if (imageLayerByKernelFlags(flags) && (fs == null || !isOtherOverlayMount(fs, dev))) {
            // the kernel's facts about the file itself, whatever is missing about the container (gone, mounts
            // unreadable): a file of an image's read-only layer is never drift
            return new Classification(DriftKind.IMAGE, path == null ? event.filename() : path, null, null, null, null);
        }
        if (path == null) {
            return Classification.unresolved(event.filename(), UnresolvedReason.RELATIVE_PATH, "relative exec path and the process is gone");
        }
        if (fs == null) {
            return Classification.unresolved(path, UnresolvedReason.CONTAINER_UNKNOWN, "container filesystems unknown: process gone before the container was seen");
        }
        Optional<OverlayRoot> root = fs.root();
        if (root.isPresent()) {
            OverlayRoot overlay = root.get();
            if (atOnce && event.file().isKnown() && namesALayer(path, overlay)) {
                return null;
            }
            Optional<Classification> hostLayerPath = byVerifiedHostLayerPath(event, path, overlay, budget);
            if (hostLayerPath.isPresent()) {
                return hostLayerPath.get();
            }
            if (dev == overlay.mount().dev() || flags.overlay() && !isOtherOverlayMount(fs, dev)) {
                if (!flags.upperLayer()) {
                    return new Classification(DriftKind.IMAGE, path, null, null, null, null);
                }
                return classifyUpper(path, rawPath, overlay, budget, atOnce);
            }
            if (atOnce) {
                return null;
            }
            Optional<Classification> layerFile = byLayerRelativePath(path, event.file(), overlay, budget);
            if (layerFile.isPresent()) {
                return layerFile.get();
            }
        }
        Optional<ContainerMount> mount = fs.nonRootMountWithDev(dev);
        if (mount.isPresent()) {
            if (atOnce) {
                return null;
            }
            return classifyOnMount(path, event, mount.get(), root, budget);
        }
        if (root.isEmpty()) {
            return Classification.unresolved(path, UnresolvedReason.ROOT_NOT_OVERLAY, "container root is not an overlay filesystem");
        }
        return Classification.unresolved(path, UnresolvedReason.UNKNOWN_MOUNT, "file is on device " + DeviceNumber.format(dev)
                + ", none of the container's mounts");
    }

    /**
     * What the kernel says of an image layer's file: on overlayfs, no upper (writable-layer) inode, neither memfd nor
     * unlinked. The same predicate as the eBPF program's "image layer" record class.
     */
    public static boolean imageLayerByKernelFlags(ExecEvent.Flags flags) {
        return flags.overlay() && !flags.upperLayer() && !flags.memfd() && !flags.unlinked();
    }

    /** The container is gone: drop its index reference (once). */
    public void containerGone(ContainerContext container) {
        if (container.filesystems() == null) {
            return;
        }
        container.filesystems().root().ifPresent(root -> {
            if (indexes.remove(root) != null) {
                images.release(root);
            }
        });
    }

    /** How many files were read and hashed (cache misses). */
    public long filesHashed() {
        return filesHashed.sum();
    }

    private Classification classifyUpper(String path, String rawPath, OverlayRoot overlay, HashBudget budget) {
        return classifyUpper(path, rawPath, overlay, budget, false);
    }

    /** @param atOnce null instead of building the index, a deep walk or reading content */
    private Classification classifyUpper(String path, String rawPath, OverlayRoot overlay, HashBudget budget,
                                         boolean atOnce) {
        Path upper = overlay.upperDir();
        if (atOnce && (indexes.get(overlay) == null || depth(rawPath) > AT_ONCE_MAX_DEPTH)) {
            return null;
        }
        ImageIndex index;
        try {
            index = indexFor(overlay);
        } catch (IOException e) {
            return Classification.unresolved(path, UnresolvedReason.IMAGE_UNREADABLE, MergedView.isDirectory(upper)
                    ? "image unreadable: " + e.getMessage() : "container gone: its writable layer was removed");
        }
        MergedView.Resolution resolution;
        try {
            Optional<MergedView.Resolution> found = mergedView.resolve(upper, index, rawPath);
            if (found.isEmpty()) {
                return MergedView.isDirectory(upper)
                        ? Classification.unresolved(path, UnresolvedReason.FILE_GONE, "executed file no longer in the container's view")
                        : withoutWritableLayer(path, index);
            }
            resolution = found.get();
        } catch (IOException e) {
            // the upper directory is checked only on a failure: one stat less for every exec from a writable layer
            return MergedView.isDirectory(upper)
                    ? Classification.unresolved(path, UnresolvedReason.WRITABLE_LAYER_UNREADABLE, "writable layer unreadable: " + e.getMessage())
                    : withoutWritableLayer(path, index);
        }
        if (!resolution.inUpper()) {
            return MergedView.isDirectory(upper)
                    ? Classification.unresolved(path, UnresolvedReason.FILE_GONE, "kernel reported a writable-layer file, the layer no longer has it")
                    : withoutWritableLayer(path, index);
        }
        String canonical = resolution.canonicalPath();
        FileFacts facts = resolution.upperFacts();
        if (facts.type() != FileFacts.Type.REGULAR) {
            return Classification.unresolved(canonical, UnresolvedReason.NOT_REGULAR_FILE, "executed entry is not a regular file: " + facts.type());
        }
        Optional<IndexEntry> imageEntry = index.resolve(canonical).filter(OverlayDriftClassifier::isFile);
        // the kind comes from the kernel (a writable-layer file), the image index and the sizes; content is read only
        // within the budget: for the alert's digest, and to tell a same-size copy-up (chmod, touch) from a change
        if (atOnce && budget.allows(facts.size()) && hashes.get(FileContentKey.of(facts)) == null) {
            return null; // the digest would be read now
        }
        HashResult upperHash;
        try {
            upperHash = hashOf(upper, canonical, facts, budget);
        } catch (IOException e) {
            return Classification.unresolved(canonical, UnresolvedReason.WRITABLE_LAYER_UNREADABLE, "writable layer unreadable: " + e.getMessage());
        }
        if (imageEntry.isEmpty()) {
            return new Classification(DriftKind.ADDED, canonical, upperHash.sha256, null, null, upperHash.note);
        }
        IndexEntry entry = imageEntry.get();
        if (facts.size() != entry.size()) {
            return new Classification(DriftKind.MODIFIED, canonical, upperHash.sha256, entry.path(), entry.layer(),
                    upperHash.note);
        }
        if (upperHash.sha256 == null || !budget.allows(entry.size())) {
            return new Classification(DriftKind.MODIFIED, canonical, upperHash.sha256, entry.path(), entry.layer(),
                    "unverified: same size as the image's file, content not compared ("
                            + (upperHash.note != null ? upperHash.note : "the image's file is larger than the hash budget")
                            + ")");
        }
        if (atOnce) {
            return null; // a same-size file: the image's digest may have to be read
        }
        String imageSha;
        try {
            imageSha = index.sha256(entry);
        } catch (IOException e) {
            return Classification.unresolved(canonical, UnresolvedReason.IMAGE_UNREADABLE, "image layer unreadable: " + e.getMessage());
        }
        DriftKind kind = upperHash.sha256.equals(imageSha) ? DriftKind.IMAGE : DriftKind.MODIFIED;
        return new Classification(kind, canonical, upperHash.sha256, entry.path(), entry.layer(), null);
    }

    /**
     * The kernel placed the file in the writable layer, and the layer is gone (a short-lived container, deleted
     * before its exec was classified): the file cannot be read any more, but the image's layers still can (they
     * outlive the container). A path the image lacks is ADDED; a path a lower layer has was changed (or copied up) in
     * the container: MODIFIED. Either without the hash, which is said in the reason.
     */
    private static Classification withoutWritableLayer(String path, ImageIndex index) {
        Optional<IndexEntry> entry = index.resolve(path);
        if (entry.isEmpty()) {
            return new Classification(DriftKind.ADDED, path, null, null, null,
                    "not hashed: container gone, its writable layer removed before the file could be read");
        }
        return new Classification(DriftKind.MODIFIED, path, null, entry.get().path(), entry.get().layer(),
                "unverified, not hashed: container gone, its writable layer removed before the file could be read;"
                        + " the kernel placed the executed file in the writable layer over the image's "
                        + entry.get().path() + " (a copy-up with unchanged content cannot be told apart any more)");
    }

    /** A file on a volume / tmpfs: read through the process's root, which is the only view of such a mount. */
    private Classification classifyOnMount(String path, ExecEvent event, ContainerMount mount, Optional<OverlayRoot> root,
                                           HashBudget budget) {
        Path processRoot = procRoot.resolve(event.tgid() + "/root");
        HashResult hash;
        try {
            Optional<FileFacts> facts = rootedFiles.stat(processRoot, path);
            hash = facts.isPresent() && facts.get().type() == FileFacts.Type.REGULAR
                    && facts.get().dev() == event.file().dev() && facts.get().ino() == event.file().ino()
                    ? hashOf(processRoot, path, facts.get(), budget)
                    : new HashResult(null, "not hashed: the process or the file is gone");
        } catch (IOException e) {
            hash = new HashResult(null, "not hashed: " + e.getMessage());
        }
        if (hash.sha256 != null && root.isPresent()) {
            try {
                ImageIndex index = indexFor(root.get());
                Optional<IndexEntry> entry = index.resolve(path).filter(OverlayDriftClassifier::isFile);
                if (entry.isPresent() && hash.sha256.equals(index.sha256(entry.get()))) {
                    return new Classification(DriftKind.IMAGE, path, hash.sha256, entry.get().path(), entry.get().layer(),
                            null);
                }
            } catch (IOException e) {
                LOG.debug("image index unavailable while checking mount file {}: {}", path, e.toString());
            }
        }
        String note = hash.note == null ? "on " + mount.fsType() + " mounted at " + mount.mountPoint()
                : hash.note + "; on " + mount.fsType() + " mounted at " + mount.mountPoint();
        return new Classification(DriftKind.MOUNT, path, hash.sha256, null, null, note);
    }

    /**
     * fanotify marking the host root reports an overlay exec as the layer's real file: its device and inode, with the
     * path relative to the layer. The file is the upper layer's (or a lower layer's) when that layer holds exactly
     * this inode at this path.
     */
    private Optional<Classification> byLayerRelativePath(String path, ExecEvent.FileId file, OverlayRoot overlay,
                                                         HashBudget budget) {
        if (!file.isKnown()) {
            return Optional.empty();
        }
        if (isLayerFile(overlay.upperDir(), path, file)) {
            return Optional.of(classifyUpper(path, path, overlay, budget));
        }
        for (Path lower : overlay.lowerDirs()) {
            if (isLayerFile(lower, path, file)) {
                return Optional.of(new Classification(DriftKind.IMAGE, path, null, null, lower.toString(), null));
            }
        }
        return Optional.empty();
    }

    private boolean isLayerFile(Path layer, String path, ExecEvent.FileId file) {
        try {
            return rootedFiles.stat(layer, path).map(f -> f.dev() == file.dev() && f.ino() == file.ino()).orElse(false);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * An exec whose path names a file inside one of the container's layer directories on the host (a process that
     * sees the runtime's layer directories, e.g. through a hostPath mount). The path string alone proves nothing: a
     * process in the container can create that very path inside its own root (the layer paths are in its
     * {@code /proc/self/mountinfo}). It counts as the layer's file only when the kernel's (dev, ino) of the executed
     * file is that layer file's, read without following any symlink inside the layer; else empty, and the path is what
     * it is for every other exec: a path in the container's own view.
     */
    private Optional<Classification> byVerifiedHostLayerPath(ExecEvent event, String path, OverlayRoot overlay,
                                                             HashBudget budget) {
        ExecEvent.FileId file = event.file();
        if (!file.isKnown() || !namesALayer(path, overlay)) {
            return Optional.empty();
        }
        String upperRelative = relativeTo(overlay.upperDir(), path);
        if (upperRelative != null && isLayerFile(overlay.upperDir(), upperRelative, file)) {
            return Optional.of(classifyUpper(upperRelative, upperRelative, overlay, budget));
        }
        for (Path lower : overlay.lowerDirs()) {
            String lowerRelative = relativeTo(lower, path);
            if (lowerRelative != null && isLayerFile(lower, lowerRelative, file)) {
                return Optional.of(new Classification(DriftKind.IMAGE, lowerRelative, null, null, lower.toString(), null));
            }
        }
        return Optional.empty();
    }

    /** {@code path} below {@code dir} ("/usr/bin/x"), or null when it is not below it. Plain paths only. */
    private static String relativeTo(Path dir, String path) {
        String prefix = dir.toString();
        if (path.length() <= prefix.length() + 1 || !path.startsWith(prefix) || path.charAt(prefix.length()) != '/') {
            return null;
        }
        return path.substring(prefix.length());
    }

    /**
     * The kernel flagged the file as on an overlay; if the device is not another overlay mounted in the container,
     * the file is the root overlay's (stat(2) may report the underlying layer's device when layers span filesystems,
     * which could equal a bind-mounted host device).
     */
    private static boolean isOtherOverlayMount(ContainerFilesystems fs, long dev) {
        return fs.nonRootMountWithDev(dev).map(m -> m.fsType().equals("overlay")).orElse(false);
    }

    /** A cheap string pre-check, so that the usual container path costs no Path parsing. */
    private static boolean namesALayer(String filename, OverlayRoot overlay) {
        if (filename.startsWith(overlay.upperDir().toString())) {
            return true;
        }
        for (Path lower : overlay.lowerDirs()) {
            if (filename.startsWith(lower.toString())) {
                return true;
            }
        }
        return false;
    }

    private HashResult hashOf(Path root, String path, FileFacts facts, HashBudget budget) throws IOException {
        FileContentKey key = FileContentKey.of(facts);
        String cached = hashes.get(key);
        if (cached != null) {
            return new HashResult(cached, null);
        }
        long bound = budget.maxBytesPerFile();
        if (!budget.allows(facts.size())) {
            return new HashResult(null, "not hashed: larger than the hash budget of " + bound + " bytes");
        }
        Optional<String> sha = rootedFiles.sha256(root, path, bound);
        if (sha.isEmpty()) {
            return new HashResult(null, "not hashed: not a regular file or larger than the hash budget of " + bound
                    + " bytes");
        }
        filesHashed.increment();
        hashes.put(key, sha.get());
        return new HashResult(sha.get(), null);
    }

    private ImageIndex indexFor(OverlayRoot root) throws IOException {
        ImageIndex index = indexes.get(root);
        if (index == null) {
            index = images.indexFor(root);
            ImageIndex raced = indexes.putIfAbsent(root, index);
            if (raced != null) {
                images.release(root); // this container's reference is already held
                index = raced;
            }
        }
        return index;
    }

    /**
     * The executed file's path in the container, not normalised; null when it cannot be known. First the kernel's:
     * the path resolved from the file's dentries at exec time, relative to the process's root, whatever name the exec
     * was given ({@code /dev/fd/N}, {@code /proc/self/fd/N}, a symlink, a relative name), when it is exact (not cut,
     * inside the root). The kind is still decided by the kernel's (dev, ino) and flags, never by the path alone.
     * Without it (fanotify, a truncated path): the exec'd name; an exec through a /proc magic link names no path of
     * the container: the process's own exe link does, while it lives; a relative name is resolved against its cwd.
     */
    private String containerPath(ExecEvent event) {
        if (event.kernel().pathExact()) {
            return event.kernel().path();
        }
        String filename = event.filename();
        if (filename.startsWith("/proc/")) {
            return ProcessLinks.read(procRoot, event.tgid(), "exe").filter(exe -> !exe.endsWith(" (deleted)"))
                    .orElse(filename);
        }
        if (filename.startsWith("/")) {
            return filename;
        }
        return ProcessLinks.read(procRoot, event.tgid(), "cwd").filter(cwd -> !cwd.endsWith(" (deleted)"))
                .map(cwd -> cwd + "/" + filename).orElse(null);
    }

    private static int depth(String path) {
        int n = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/') {
                n++;
            }
        }
        return n;
    }

    private static boolean isFile(IndexEntry entry) {
        return entry.type() == IndexEntry.EntryType.REGULAR || entry.type() == IndexEntry.EntryType.HARDLINK;
    }

    private record HashResult(String sha256, String note) {
    }
}
