package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.fs.FileFacts;
import io.driftagent.agent.fs.NoFollowRootedFiles;
import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.fs.RootedFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides "overlay?" and "upper layer?" for a file fanotify reported, from the overlays listed in mountinfo.
 *
 * <p>Two shapes of event exist (measured on 6.x kernels): a mark on the overlay superblock reports the overlay
 * inode (overlay dev, fs magic 0x794c7630, path inside the overlay); a mark on the filesystem holding the layers
 * (the host root) reports the layer's real inode (e.g. ext4 dev) opened through overlay's private clone of the
 * layer directory, so its path is relative to the layer directory and its statx mount id is that clone's.
 *
 * <p>Method: the file is in the upper layer iff {@code lstat(upperdir + path)} is the same inode (same dev for a
 * real-inode event; same ino for an overlay-inode event, which on same-filesystem layers without xino carries the
 * real inode number). A real-inode event is an overlay file iff the same test succeeds for one of the overlay's
 * lower dirs; the clone mount id that matched is cached so later events cost one lstat.
 *
 * <p>A real-inode event read after its container's writable layer was deleted (a container removed at once, e.g.
 * {@code ctr run --rm}, whose overlay was not marked yet when it exec'd) names a deleted host-disk file by its path
 * in that layer, through a layer clone never matched: no path is left to compare. Such a file was created in a
 * writable layer while it existed, so it is placed by its creation time ({@code stx_btime}, which no process can set):
 * in the one deleted writable layer on its filesystem that was created before it and unmounted after it (both bounds
 * exact: the layer directory's own creation time, taken when its overlay was first seen, and the refresh that found
 * it unmounted). Two such layers (containers alive at the same time): not placed, counted ambiguous; an overlay whose
 * mount line was never read: not placed, counted unknown ({@link #goneLayerPlacements()}).
 */
public final class OverlayLayers {

    private static final Logger log = LoggerFactory.getLogger(OverlayLayers.class);
    private static final long REFRESH_MIN_INTERVAL_MS = 1000;

    private record Layer(OverlayMount overlay, Path dir, boolean upper) {}

    /** An overlay no longer mounted (its container ended): its last execs may still be read after that. */
    private record Retired(OverlayMount overlay, long sinceMs) {}

    private static final long RETIRED_KEPT_MS = 120_000;
    private static final int RETIRED_PER_DEV = 4;
    /** overlay dev -> overlays with that (reused) device that were unmounted, oldest first */
    private final Map<Long, List<Retired>> retired = new ConcurrentHashMap<>();

    /** Overlay devices already refreshed for once; bounded by the overlays a node mounts. */
    private final java.util.Set<Long> unknownOverlayDevs = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Mount ids of real-inode events already refreshed for once. */
    private final java.util.Set<Long> seenMountIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final int MAX_SEEN_MOUNT_IDS = 65_536;

    private final Path procRoot;
    private final Clock clock;
    private final Set<Integer> extraPids = ConcurrentHashMap.newKeySet();
    private volatile Map<Long, OverlayMount> byDev = Map.of();
    private final Map<Long, Layer> layerByMountId = new ConcurrentHashMap<>();
    private final Map<Long, Boolean> notLayerMountIds = new ConcurrentHashMap<>();
    private final Map<Path, Long> layerDirDev = new ConcurrentHashMap<>();
    private volatile long lastRefreshMs;

    private final RootedFiles bytePaths;

    /** The filesystem and creation time of a writable layer's directory. */
    record DirBirth(long dev, long birthNanos) {}

    /** Reads {@link DirBirth} of a directory without following a last symlink; null when it cannot be told. */
    @FunctionalInterface
    interface DirBirths {
        DirBirth of(Path dir);

        DirBirths NONE = dir -> null;
    }

    /** Whether a mount id (with the device of the file opened through it) is a mount of a known namespace. */
    @FunctionalInterface
    interface KnownMounts {
        boolean known(long mountId, long dev);

        KnownMounts NONE = (mountId, dev) -> false;
    }

    /**
     * A writable layer of an overlay the agent saw mounted.
     *
     * @param born        the layer directory's creation time (ns since the epoch)
     * @param seenNanos   CLOCK_MONOTONIC when the overlay was first seen mounted
     * @param goneNanos   CLOCK_MONOTONIC when it was first seen unmounted, -1 while mounted
     * @param goneEpochNanos the same on the wall clock (ns since the epoch), -1 while mounted
     * @param lastMountedEpochNanos the last time (wall clock, ns since the epoch) it was seen still mounted
     */
    private record UpperLife(OverlayMount overlay, DirBirth born, long seenNanos, long goneNanos, long goneEpochNanos,
                             long lastMountedEpochNanos) {
        UpperLife gone(long nanos, long epochNanos) {
            return new UpperLife(overlay, born, seenNanos, nanos, epochNanos, lastMountedEpochNanos);
        }

        UpperLife stillMounted(long epochNanos) {
            return new UpperLife(overlay, born, seenNanos, goneNanos, goneEpochNanos, epochNanos);
        }
    }

    private static final int MAX_UPPER_LIVES = 8192;
    private static final int MAX_NOTICED_BIRTHS = 4096;
    /** writable layer dir -> its creation time, read at its overlay's mount notice, until a refresh takes it */
    private final Map<Path, DirBirth> noticedBirths = new ConcurrentHashMap<>();
    private static final long EPOCH_SLACK_NANOS = 1_000_000L; // the clock's millisecond
    private static final long UNLINKED_BEFORE_MARGIN_NANOS = 100_000_000L;
    private final List<UpperLife> upperLives = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final DirBirths dirBirths;
    private final KnownMounts knownMounts;
    private final java.util.function.LongSupplier nanoClock;
    private final java.util.concurrent.atomic.LongAdder goneLayerPlaced = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder goneLayerAmbiguous = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder goneLayerUnknown = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder overlayUnseen = new java.util.concurrent.atomic.LongAdder();
    /** Overlay devices an {@code overlay_unseen} exec was logged at INFO for (once each; bounded by the node's). */
    private final Set<Long> unseenLogged = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.LongAdder seenOnlyByTheWatcher = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder staleLayerMounts = new java.util.concurrent.atomic.LongAdder();

    public OverlayLayers(Path procRoot, Clock clock) {
        this(procRoot, clock, NoFollowRootedFiles.create());
    }

    /** @param bytePaths stats paths whose names are not UTF-8 (a java.nio Path cannot hold them) */
    public OverlayLayers(Path procRoot, Clock clock, RootedFiles bytePaths) {
        this(procRoot, clock, bytePaths, DirBirths.NONE, KnownMounts.NONE, System::nanoTime);
    }

    /**
     * @param dirBirths   the creation time of writable layer directories (none: files of deleted layers are not placed)
     * @param knownMounts mounts of a known namespace: a file opened through one is not a layer clone's
     * @param nanoClock   CLOCK_MONOTONIC nanoseconds, the clock exec events are timed by
     */
    OverlayLayers(Path procRoot, Clock clock, RootedFiles bytePaths, DirBirths dirBirths, KnownMounts knownMounts,
                  java.util.function.LongSupplier nanoClock) {
        this.procRoot = procRoot;
        this.clock = clock;
        this.bytePaths = bytePaths;
        this.dirBirths = dirBirths;
        this.knownMounts = knownMounts;
        this.nanoClock = nanoClock;
    }

    /** Files of deleted writable layers by outcome: placed, ambiguous (two layers fit), unknown (no layer fits). */
    public Map<String, Long> goneLayerPlacements() {
        return Map.of("placed", goneLayerPlaced.sum(), "ambiguous", goneLayerAmbiguous.sum(), "unknown",
                goneLayerUnknown.sum());
    }

    /**
     * Execs whose place could not be told and were not placed (see {@code FanotifyExecSource#doubtful}): by reason,
     * {@code overlay_unseen}.
     */
    public Map<String, Long> doubtful() {
        return Map.of("overlay_unseen", overlayUnseen.sum());
    }

    /** Overlays the host mount table's watcher saw that were gone before any read of the layers showed them. */
    public long seenOnlyByTheWatcher() {
        return seenOnlyByTheWatcher.sum();
    }

    /**
     * What tells the overlay mounted on {@code dev} from another one given the same (reused) device later, to compare
     * with {@code equals} (its mount point and layers; nothing allocated); null when no known overlay has that device.
     */
    public Object overlayIdentity(long dev) {
        return byDev.get(dev);
    }

    /** Also read overlays from this process's mount namespace (a container whose root was watched). */
    public void addNamespaceOf(int pid) {
        extraPids.add(pid);
    }

    void removeNamespaceOf(int pid) {
        extraPids.remove(pid);
    }

    public synchronized void refresh() {
        refresh(List.of());
    }

    /**
     * An overlay the host mount table's watcher saw change: when it was mounted and when unmounted (CLOCK_MONOTONIC,
     * as the kernel's notice or the table read told; {@code -1}: not seen, e.g. still mounted, or unmounted only).
     */
    public record SeenOverlay(OverlayMount overlay, long mountedNanos, long unmountedNanos) {
        public SeenOverlay {
            java.util.Objects.requireNonNull(overlay, "overlay");
        }
    }

    /**
     * A new overlay as the kernel's notice of its mount describes it (on the notice reader's thread, while it is
     * mounted): its writable layer's creation time is read now, so it is known even when the layer is deleted before
     * any read of the mount tables shows the overlay. {@code births} is the notice thread's own (never one a
     * refresh holds).
     */
    void noticed(OverlayMount m, DirBirths births) {
        if (m.upperDir() == null) {
            return;
        }
        DirBirth born = births.of(m.upperDir());
        if (born != null) {
            if (noticedBirths.size() >= MAX_NOTICED_BIRTHS) {
                noticedBirths.clear();
            }
            noticedBirths.put(m.upperDir(), born);
        }
    }

    /** The creation time of a writable layer directory: read now, else as read at its overlay's notice. */
    private DirBirth birthOf(Path upperDir) {
        DirBirth born = dirBirths.of(upperDir);
        DirBirth noticed = noticedBirths.remove(upperDir);
        return born != null ? born : noticed;
    }

    /**
     * Re-reads the mount tables; {@code seenMounted} are overlays the host mount table's watcher has just seen
     * mounted. One of those this read no longer shows, and no read showed before, lived shorter than the time between
     * the watcher's read and this one: it is kept as gone (with its writable layer's creation time while that layer
     * is still there), so its late execs are told from the image's and placed like those of any other ended overlay.
     */
    public synchronized void refresh(java.util.Collection<SeenOverlay> seenMounted) {
        Map<Long, OverlayMount> next = new HashMap<>();
        readInto(procRoot.resolve("self/mountinfo"), next);
        for (Integer pid : new ArrayList<>(extraPids)) {
            if (!readInto(procRoot.resolve(pid + "/mountinfo"), next)) {
                extraPids.remove(pid);
            }
        }
        long now = clock.millis();
        long nowNanos = nanoClock.getAsLong();
        for (OverlayMount old : byDev.values()) {
            if (!old.equals(next.get(old.dev()))) {
                retire(old, now);
                long gone = nowNanos;
                for (SeenOverlay seen : seenMounted) {
                    if (seen.unmountedNanos() >= 0 && seen.mountedNanos() < 0 && seen.overlay().equals(old)) {
                        gone = Math.min(gone, seen.unmountedNanos()); // as the kernel's notice told
                    }
                }
                retireUpperLife(old, gone, gone + (now * 1_000_000L - nowNanos));
            }
        }
        long epochMinusMonotonic = now * 1_000_000L - nowNanos;
        for (SeenOverlay seen : seenMounted) {
            if (seen.mountedNanos() < 0 && seen.unmountedNanos() >= 0) {
                // an overlay a read found gone before the watcher did: its life ends when the kernel said
                for (int i = 0; i < upperLives.size(); i++) {
                    UpperLife l = upperLives.get(i);
                    if (l.overlay().equals(seen.overlay()) && l.goneNanos() > seen.unmountedNanos()) {
                        upperLives.set(i, l.gone(seen.unmountedNanos(), seen.unmountedNanos() + epochMinusMonotonic));
                    }
                }
            }
        }
        for (SeenOverlay seen : seenMounted) {
            OverlayMount m = seen.overlay();
            if (seen.mountedNanos() >= 0 && !m.equals(next.get(m.dev())) && !m.equals(byDev.get(m.dev())) && !retiredAlready(m)) {
                // mounted and unmounted again before this read (told by the kernel's notice, or read by the host
                // table's watcher a moment before): kept as gone, timed as it was seen
                retire(m, now);
                seenOnlyByTheWatcher.increment();
                DirBirth born = m.upperDir() == null ? null : birthOf(m.upperDir());
                long gone = seen.unmountedNanos() >= 0 ? seen.unmountedNanos() : nowNanos;
                long mounted = Math.min(seen.mountedNanos(), gone);
                if (born != null) {
                    upperLives.add(new UpperLife(m, born, mounted, gone, gone + epochMinusMonotonic,
                            mounted + epochMinusMonotonic));
                } else {
                    log.debug("overlay dev {}: its writable layer {} was deleted before its creation time was read",
                            m.dev(), m.upperDir());
                }
                log.debug("overlay dev {} (upper {}) was unmounted before its mount table was read: kept as gone",
                        m.dev(), m.upperDir());
            }
        }
        for (OverlayMount m : next.values()) {
            if (m.upperDir() != null && !m.equals(byDev.get(m.dev()))) {
                DirBirth born = birthOf(m.upperDir());
                long mounted = nowNanos;
                for (SeenOverlay seen : seenMounted) {
                    if (seen.mountedNanos() >= 0 && seen.overlay().equals(m)) {
                        mounted = Math.min(mounted, seen.mountedNanos());
                    }
                }
                if (born != null) {
                    upperLives.add(new UpperLife(m, born, mounted, -1L, -1L, now * 1_000_000L));
                }
            }
        }
        for (int i = 0; i < upperLives.size(); i++) {
            UpperLife l = upperLives.get(i);
            if (l.goneNanos() < 0 && l.overlay().equals(next.get(l.overlay().dev()))) {
                upperLives.set(i, l.stillMounted(now * 1_000_000L));
            }
        }
        upperLives.removeIf(l -> l.goneNanos() >= 0
                && nowNanos - l.goneNanos() > java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(RETIRED_KEPT_MS));
        while (upperLives.size() > MAX_UPPER_LIVES) {
            upperLives.remove(0);
        }
        retired.values().removeIf(list -> {
            list.removeIf(r -> now - r.sinceMs() > RETIRED_KEPT_MS);
            return list.isEmpty();
        });
        byDev = Map.copyOf(next);
        // a layer mount id is overlay's clone, freed (and its id given out again) once its overlay is gone
        layerByMountId.values().removeIf(l -> !l.overlay().equals(next.get(l.overlay().dev())));
        notLayerMountIds.clear();
        lastRefreshMs = clock.millis();
    }

    /**
     * Of the overlays that had the file's device and are gone, those that could have held it: a file is created in a
     * mounted overlay, so not one a refresh had found unmounted before the file was created (its device may serve the
     * current overlay by now, whose own file this is); null when none could (or none had the device).
     */
    private static List<Retired> mayHaveHeld(ExecutedFile f, List<Retired> before) {
        if (before == null || f.birthNanos() == ExecutedFile.UNKNOWN) {
            return before;
        }
        List<Retired> kept = new ArrayList<>(before.size());
        for (Retired r : before) {
            if (f.birthNanos() <= r.sinceMs() * 1_000_000L + EPOCH_SLACK_NANOS) {
                kept.add(r);
            }
        }
        return kept.isEmpty() ? null : kept;
    }

    private boolean retiredAlready(OverlayMount m) {
        List<Retired> list = retired.get(m.dev());
        if (list != null) {
            for (Retired r : list) {
                if (r.overlay().equals(m)) {
                    return true;
                }
            }
        }
        return false;
    }

    private void retire(OverlayMount old, long nowMs) {
        List<Retired> list = retired.computeIfAbsent(old.dev(), d -> new java.util.concurrent.CopyOnWriteArrayList<>());
        list.add(new Retired(old, nowMs));
        while (list.size() > RETIRED_PER_DEV) {
            list.remove(0);
        }
    }

    private void retireUpperLife(OverlayMount old, long nanos, long epochNanos) {
        for (int i = 0; i < upperLives.size(); i++) {
            UpperLife l = upperLives.get(i);
            if (l.goneNanos() < 0 && l.overlay().equals(old)) {
                upperLives.set(i, l.gone(nanos, epochNanos));
            }
        }
    }

    private static boolean readInto(Path mountinfo, Map<Long, OverlayMount> into) {
        try {
            String text = new String(Files.readAllBytes(mountinfo), StandardCharsets.UTF_8);
            for (OverlayMount m : OverlayMountTable.overlays(text)) {
                into.putIfAbsent(m.dev(), m);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public LayerResolution resolve(ExecutedFile f) {
        return resolve(f, () -> null);
    }

    /**
     * @param hostPath where the file is on its filesystem through the host root's mount ({@link HostPaths}), asked
     *                 only for a deleted file no layer the agent knows holds; null when it cannot be told
     */
    LayerResolution resolve(ExecutedFile f, java.util.function.Supplier<String> hostPath) {
        if (f.onOverlay()) {
            OverlayMount m = byDev.get(f.dev());
            if (m == null && (unknownOverlayDevs.add(f.dev()) || maybeRefresh())) {
                // a new overlay (a container that just started) is worth one refresh at once, not after the interval:
                // without its upperdir the file would pass for a lower-layer one
                refresh();
                m = byDev.get(f.dev());
            }
            // a regular file at the path in the upper layer is what the overlay shows there (upper wins); its inode
            // number cannot be compared: for a copied-up file the overlay reports the lower origin's
            boolean upper = m != null && m.upperDir() != null
                    && upperEntry(m.upperDir(), relativeTo(m, f.path())) == UpperEntry.REGULAR_FILE;
            List<Retired> before = mayHaveHeld(f, retired.get(f.dev()));
            if (!upper && m != null && m.upperDir() != null
                    && !Files.isDirectory(m.upperDir(), LinkOption.NOFOLLOW_LINKS)) {
                // its writable layer is deleted, but no refresh has found its overlay unmounted yet (the mount watcher
                // lags under load): the overlay listed under this device is as good as gone, and is the file's
                List<Retired> withCurrent = new ArrayList<>(before == null ? List.of() : before);
                withCurrent.add(new Retired(m, clock.millis()));
                before = withCurrent;
            }
            if (m == null && before == null) {
                // marked (its mount line was read), but no read of the layers showed it: nothing to tell its writable
                // layer's files from its image's by
                overlayUnseen.increment();
                if (unseenLogged.size() >= 4096) {
                    unseenLogged.clear();
                }
                log.atLevel(unseenLogged.add(f.dev()) ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG).log("exec of {} (dev {}, ino {}) on an overlay no mount table read showed: whether it is its"
                        + " writable layer's cannot be told (drift.fanotify.doubtful{{reason=\"overlay_unseen\"}})",
                        f.path(), f.dev(), f.ino());
            }
            if (before != null && !before.isEmpty()) {
                // the device served more than one overlay: the one whose writable layer holds this very inode at this
                // path is the file's (a file created in the layer has its real inode number on the overlay), and the
                // exec is timed in that overlay's life, not in whichever life of the device its read fits first
                LayerResolution exact = byInodeInAWritableLayer(f, m, before);
                if (exact != null) {
                    return exact;
                }
            }
            boolean unlinkedWithLayer = false;
            if (!upper && before != null) {
                upper = inAGoneUpperLayer(f, m, before);
                // its link went with the writable layer the runtime deleted, unless a process unlinked it before
                unlinkedWithLayer = upper && (f.deleted() || f.nlink() == 0) && unlinkedAfterItsContainer(f, before);
            }
            return new LayerResolution(true, upper, f.dev(), 0L, unlinkedWithLayer);
        }
        Layer cached = layerByMountId.get(f.mountId());
        if (cached != null && !cached.upper() && (f.deleted() || f.nlink() == 0)) {
            // no image layer's file is deleted while a container uses it: this mount id, learned from another
            // container's clone of a layer it shares with this overlay (containers of one image share its layer
            // directories), was freed with that container and given to a clone of another overlay's writable layer
            layerByMountId.remove(f.mountId());
            staleLayerMounts.increment();
            log.debug("mount id {} was a clone of the image layer {}; a deleted file opened through it is another"
                    + " overlay's: {}", f.mountId(), cached.dir(), f.path());
            cached = null;
        }
        if (cached != null && sameInode(cached.dir(), f.path(), f.dev(), f.ino())) {
            return new LayerResolution(true, cached.upper(), cached.overlay().dev());
        }
        if (cached != null && (f.deleted() || f.nlink() == 0) && cached.overlay().equals(byDev.get(cached.overlay().dev()))) {
            // a deleted file has no path to compare; the mount it was opened through is overlay's private clone of
            // one layer, which lives (and keeps its id) as long as that overlay, still mounted: the file is that layer's
            return new LayerResolution(true, cached.upper(), cached.overlay().dev());
        }
        if (cached == null && mayBeInAGoneLayer(f)) {
            LayerResolution gone = inADeletedUpperLayer(f, hostPath);
            if (gone != null) {
                return gone;
            }
        }
        if (cached == null && notLayerMountIds.containsKey(f.mountId())) {
            return LayerResolution.notOverlay(f.dev());
        }
        Layer found = probe(f);
        if (found == null && firstSightOfMountId(f.mountId())) {
            // a mount id never seen: likely overlay's private clone of a layer of a container that just started, worth
            // one refresh at once (else its files would pass for host files until the next allowed refresh)
            refresh();
            found = probe(f);
        } else if (found == null && maybeRefresh()) {
            found = probe(f);
        }
        if (found == null) {
            notLayerMountIds.put(f.mountId(), Boolean.TRUE);
            return LayerResolution.notOverlay(f.dev());
        }
        layerByMountId.put(f.mountId(), found);
        return new LayerResolution(true, found.upper(), found.overlay().dev());
    }

    /**
     * A deleted host-disk file, not opened through a mount of any namespace the agent knows, with a creation time: what
     * a layer clone of a writable layer deleted since reports.
     */
    private boolean mayBeInAGoneLayer(ExecutedFile f) {
        return (f.deleted() || f.nlink() == 0) && f.birthNanos() != ExecutedFile.UNKNOWN && !f.memfd()
                && !knownMounts.known(f.mountId(), f.dev());
    }

    /**
     * The deleted writable layer {@code f} was created in (see the class comment), or null: not placed (counted).
     * Such a layer's overlay is gone, so the exec is timed in the middle of that overlay's life as the agent saw it.
     */
    private LayerResolution inADeletedUpperLayer(ExecutedFile f, java.util.function.Supplier<String> hostPath) {
        UpperLife byPath = byHostPath(f, hostPath.get());
        if (byPath != null) {
            goneLayerPlaced.increment();
            log.debug("{} (deleted, ino {}) placed in the deleted writable layer {} of overlay dev {} by its path on the"
                    + " host", f.path(), f.ino(), byPath.overlay().upperDir(), byPath.overlay().dev());
            return placedIn(byPath, f);
        }
        UpperLife match = null;
        int matches = 0;
        List<String> candidates = new ArrayList<>(2);
        java.util.Set<Path> counted = new java.util.HashSet<>();
        for (UpperLife l : upperLives) {
            if (!counted.add(l.overlay().upperDir())) {
                continue; // the same writable layer mounted twice (the runtime's own temporary mount of a snapshot)
            }
            if (l.born().dev() != f.dev() || l.born().birthNanos() > f.birthNanos()
                    || l.goneEpochNanos() >= 0 && f.birthNanos() > l.goneEpochNanos() + EPOCH_SLACK_NANOS) {
                continue;
            }
            if (!Files.isDirectory(l.overlay().upperDir(), LinkOption.NOFOLLOW_LINKS)) {
                matches++;
                match = l;
                candidates.add(describe(l, "deleted"));
            } else if (couldHaveHeld(l.overlay(), f)) {
                // a writable layer still there could have held it too (deleted by its own container): not placed
                matches++;
                match = null;
                candidates.add(describe(l, "still there"));
            }
        }
        if (matches == 1 && match != null) {
            goneLayerPlaced.increment();
            log.debug("{} (deleted, ino {}) placed in the deleted writable layer {} of overlay dev {} by its creation"
                    + " time", f.path(), f.ino(), match.overlay().upperDir(), match.overlay().dev());
            return placedIn(match, f);
        }
        if (matches > 1) {
            goneLayerAmbiguous.increment();
            log.info("exec of the deleted file {} (ino {}, dev {}): {} deleted writable layers of containers alive at"
                    + " the time it was created could hold it; not placed (drift.fanotify.gone.layer"
                    + "{{outcome=\"ambiguous\"}}): {}", f.path(), f.ino(), f.dev(), matches, candidates);
        } else {
            goneLayerUnknown.increment();
            log.debug("exec of the deleted file {} (ino {}, dev {}): no deleted writable layer the agent saw fits it",
                    f.path(), f.ino(), f.dev());
        }
        return null;
    }

    /**
     * Of the overlays that had the file's device (the current one and those gone), the one whose writable layer holds
     * a regular file with the event's inode number at the event's path, placed and timed in its life; null when not
     * exactly one does, or its life is not known.
     */
    private LayerResolution byInodeInAWritableLayer(ExecutedFile f, OverlayMount current, List<Retired> before) {
        List<OverlayMount> all = new ArrayList<>();
        if (current != null) {
            all.add(current);
        }
        before.forEach(r -> all.add(r.overlay()));
        OverlayMount found = null;
        for (OverlayMount m : all) {
            if (m.upperDir() != null && !m.equals(found) && sameInode(m.upperDir(), relativeTo(m, f.path()), -1, f.ino())) {
                if (found != null) {
                    return null;
                }
                found = m;
            }
        }
        if (found == null) {
            return null;
        }
        for (UpperLife l : upperLives) {
            if (l.overlay().equals(found)) {
                return placedIn(l, f);
            }
        }
        return null;
    }

    /** {@code f} placed in the writable layer of {@code life}, timed in the middle of that overlay's life. */
    private LayerResolution placedIn(UpperLife life, ExecutedFile f) {
        long end = life.goneNanos() >= 0 ? life.goneNanos() : nanoClock.getAsLong();
        long mid = life.seenNanos() + (end - life.seenNanos()) / 2;
        // unlinked while its overlay was still mounted: by a process of the container (fileless), not with its layer
        // (filesystems stamp ctime from a coarse clock, a tick or more behind: only a clear margin says "before")
        boolean withLayer = f.changeNanos() == ExecutedFile.UNKNOWN
                || f.changeNanos() + UNLINKED_BEFORE_MARGIN_NANOS >= life.lastMountedEpochNanos();
        return new LayerResolution(true, true, life.overlay().dev(), mid == 0L ? 1L : mid, withLayer);
    }

    /**
     * The one overlay life whose writable layer directory is where {@code hostPath} (the file's path through the host
     * root's mount) lies, the latest such when the layer was mounted more than once; null when none or unknown.
     */
    private UpperLife byHostPath(ExecutedFile f, String hostPath) {
        if (hostPath == null) {
            return null;
        }
        UpperLife found = null;
        for (UpperLife l : upperLives) {
            String upper = l.overlay().upperDir().toString();
            if (hostPath.startsWith(upper + "/") && l.born().dev() == f.dev()
                    && (found == null || l.seenNanos() >= found.seenNanos())) {
                found = l;
            }
        }
        return found;
    }

    private static String describe(UpperLife l, String state) {
        return l.overlay().upperDir() + " (" + state + ", overlay dev " + l.overlay().dev() + " at "
                + l.overlay().mountPoint() + ", created " + l.born().birthNanos() + ", gone " + l.goneEpochNanos() + ")";
    }

    /**
     * Whether a file of a deleted writable layer (an overlay with this device that is gone) lost its last link after
     * the agent last saw that overlay mounted, i.e. with its layer; false when it clearly went before (a process of
     * the container unlinked it: fileless). True when it cannot be told.
     */
    private boolean unlinkedAfterItsContainer(ExecutedFile f, List<Retired> before) {
        if (f.changeNanos() == ExecutedFile.UNKNOWN) {
            return true;
        }
        boolean anyLife = false;
        for (UpperLife l : upperLives) {
            for (Retired r : before) {
                if (l.overlay().equals(r.overlay()) && !Files.isDirectory(l.overlay().upperDir(), LinkOption.NOFOLLOW_LINKS)) {
                    anyLife = true;
                    if (f.changeNanos() + UNLINKED_BEFORE_MARGIN_NANOS >= l.lastMountedEpochNanos()) {
                        return true;
                    }
                }
            }
        }
        return !anyLife;
    }

    /**
     * Whether a writable layer that still exists could have held {@code f} (since deleted in it): its directory is in
     * that layer, and that layer's clone is not known to be another mount than the one {@code f} was opened through.
     */
    private boolean couldHaveHeld(OverlayMount m, ExecutedFile f) {
        for (Map.Entry<Long, Layer> e : layerByMountId.entrySet()) {
            if (e.getValue().upper() && e.getValue().overlay().equals(m) && e.getKey() != f.mountId()) {
                return false;
            }
        }
        String path = f.path();
        int slash = path.lastIndexOf('/');
        if (slash <= 0 || !javaPathCanHold(path)) {
            return true; // in the layer's root, or a name java.nio cannot hold: it could
        }
        return upperEntry(m.upperDir(), path.substring(0, slash)) != UpperEntry.ABSENT;
    }

    /**
     * For an overlay-inode event read after its container ended (the device is then free for the next container's
     * overlay, which is what {@code current} may be): whether the file was in the writable layer of one of the
     * overlays that had this device. Yes when it is still there; when that writable layer was deleted with its
     * container (the runtime's "--rm"), yes unless the file is an image-layer file of one of these overlays (its
     * inode at its path in a lower layer, which outlives the container): what cannot be shown to be the image's is
     * not taken for it.
     */
    private boolean inAGoneUpperLayer(ExecutedFile f, OverlayMount current, List<Retired> before) {
        boolean upperDeleted = false;
        for (Retired r : before) {
            OverlayMount m = r.overlay();
            if (m.upperDir() == null) {
                continue;
            }
            UpperEntry entry = upperEntry(m.upperDir(), relativeTo(m, f.path()));
            if (entry == UpperEntry.REGULAR_FILE) {
                return true;
            }
            upperDeleted |= entry == UpperEntry.ABSENT && !Files.isDirectory(m.upperDir(), LinkOption.NOFOLLOW_LINKS);
        }
        if (!upperDeleted) {
            return false;
        }
        List<OverlayMount> all = new ArrayList<>();
        if (current != null) {
            all.add(current);
        }
        before.forEach(r -> all.add(r.overlay()));
        for (OverlayMount m : all) {
            for (Path lower : m.lowerDirs()) {
                if (sameInode(lower, relativeTo(m, f.path()), -1, f.ino())) {
                    return false;
                }
            }
        }
        return true;
    }

    private Layer probe(ExecutedFile f) {
        Layer found = probe(f, byDev.values());
        if (found == null && !retired.isEmpty()) {
            // an ended container's: its writable layer is there until the runtime deletes its snapshot
            List<OverlayMount> gone = new ArrayList<>();
            retired.values().forEach(list -> list.forEach(r -> gone.add(r.overlay())));
            found = probe(f, gone);
        }
        return found;
    }

    private Layer probe(ExecutedFile f, java.util.Collection<OverlayMount> overlays) {
        for (OverlayMount m : overlays) {
            if (m.upperDir() != null && onDev(m.upperDir(), f.dev()) && sameInode(m.upperDir(), f.path(), f.dev(), f.ino())) {
                return new Layer(m, m.upperDir(), true);
            }
            for (Path lower : m.lowerDirs()) {
                if (onDev(lower, f.dev()) && sameInode(lower, f.path(), f.dev(), f.ino())) {
                    return new Layer(m, lower, false);
                }
            }
        }
        return null;
    }

    private boolean firstSightOfMountId(long mountId) {
        if (seenMountIds.size() >= MAX_SEEN_MOUNT_IDS) {
            seenMountIds.clear();
        }
        return seenMountIds.add(mountId);
    }

    private boolean maybeRefresh() {
        if (clock.millis() - lastRefreshMs < REFRESH_MIN_INTERVAL_MS) {
            return false;
        }
        refresh();
        return true;
    }

    private boolean onDev(Path dir, long dev) {
        Long d = layerDirDev.computeIfAbsent(dir, p -> {
            try {
                return ((Number) Files.getAttribute(p, "unix:dev")).longValue();
            } catch (IOException | RuntimeException e) {
                return -1L;
            }
        });
        return d == dev;
    }

    /**
     * Whether the overlay's upper (writable) layer has any entry at the file's path: the file was created, copied up
     * (for a write, a chmod, a rename) or deleted in the container. True as well when it cannot be told (not an overlay
     * file, overlay or upperdir unknown, path not comparable): callers use false as "still exactly the image's file".
     */
    public boolean touchedInUpperLayer(ExecutedFile f) {
        if (!f.onOverlay() || f.deleted()) {
            return true;
        }
        OverlayMount m = byDev.get(f.dev());
        if (m == null || m.upperDir() == null) {
            return true;
        }
        return upperEntry(m.upperDir(), relativeTo(m, f.path())) != UpperEntry.ABSENT;
    }

    private enum UpperEntry { ABSENT, REGULAR_FILE, OTHER }

    /**
     * What the upper layer holds at {@code rel}, walked with lstat only (the upper layer is the container's to shape):
     * a missing component means absent; a symlink or non-directory on the way, an unusable path or an error count as
     * OTHER (present, but not a file the overlay would show there).
     */
    private UpperEntry upperEntry(Path upperDir, String rel) {
        if (rel.isEmpty() || !rel.startsWith("/") || rel.contains("/../") || rel.endsWith("/..")) {
            return UpperEntry.OTHER;
        }
        if (!javaPathCanHold(rel)) {
            return upperEntryByBytes(upperDir, rel);
        }
        String[] components = rel.substring(1).split("/");
        Path p = upperDir;
        for (int i = 0; i < components.length; i++) {
            p = p.resolve(components[i]);
            try {
                int type = ((Number) Files.readAttributes(p, "unix:mode", LinkOption.NOFOLLOW_LINKS).get("mode")).intValue()
                        & 0170000;
                if (i == components.length - 1) {
                    return type == 0100000 ? UpperEntry.REGULAR_FILE : UpperEntry.OTHER;
                }
                if (type != 0040000) {
                    return UpperEntry.OTHER;
                }
            } catch (java.nio.file.NoSuchFileException e) {
                return UpperEntry.ABSENT;
            } catch (IOException | RuntimeException e) {
                return UpperEntry.OTHER;
            }
        }
        return UpperEntry.OTHER;
    }

    /** {@link #upperEntry} for a name that is not UTF-8: each prefix stat'ed by its bytes, nothing followed. */
    private UpperEntry upperEntryByBytes(Path upperDir, String rel) {
        String[] components = rel.substring(1).split("/");
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < components.length; i++) {
            prefix.append('/').append(components[i]);
            Optional<FileFacts> facts;
            try {
                facts = bytePaths.stat(upperDir, prefix.toString());
            } catch (IOException | RuntimeException e) {
                return UpperEntry.OTHER;
            }
            if (facts.isEmpty()) {
                return UpperEntry.ABSENT;
            }
            FileFacts.Type type = facts.get().type();
            if (i == components.length - 1) {
                return type == FileFacts.Type.REGULAR ? UpperEntry.REGULAR_FILE : UpperEntry.OTHER;
            }
            if (type != FileFacts.Type.DIRECTORY) {
                return UpperEntry.OTHER;
            }
        }
        return UpperEntry.OTHER;
    }

    /**
     * Whether a java.nio Path can name {@code path} exactly: not when it holds a byte that is not UTF-8 (a lone
     * surrogate in the {@link PathBytes} mapping), which java.nio would encode as something else.
     */
    private static boolean javaPathCanHold(String path) {
        for (int i = 0; i < path.length(); i++) {
            if (Character.isSurrogate(path.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Where the overlay with this dev is mounted in the agent's namespace, or null (unknown, or only "/" elsewhere). */
    String hostMountPoint(long overlayDev) {
        OverlayMount m = byDev.get(overlayDev);
        return m == null || m.mountPoint().equals("/") ? null : m.mountPoint();
    }

    /** The path as seen inside the overlay: a host-visible overlay's mount point is stripped. */
    String pathInsideOverlay(ExecutedFile f) {
        if (!f.onOverlay()) {
            return f.path();
        }
        OverlayMount m = byDev.get(f.dev());
        return m == null ? f.path() : relativeTo(m, f.path());
    }

    private static String relativeTo(OverlayMount m, String path) {
        String mp = m.mountPoint();
        if (!mp.equals("/") && path.startsWith(mp + "/")) {
            return path.substring(mp.length());
        }
        return path;
    }

    /**
     * lstat of {@code dir + rel} without following the last component; the layer path comes from the kernel's
     * d_path of the opened dentry, so it has no symlink components at event time. A racing rename can only make
     * the comparison fail (flag false), never make the agent read anything.
     */
    private boolean sameInode(Path dir, String rel, long dev, long ino) {
        if (rel.isEmpty() || rel.contains("/../") || rel.endsWith("/..")) {
            return false;
        }
        if (!javaPathCanHold(rel)) {
            try {
                return bytePaths.stat(dir, rel.startsWith("/") ? rel : "/" + rel)
                        .map(f -> f.type() == FileFacts.Type.REGULAR && f.ino() == ino && (dev < 0 || f.dev() == dev))
                        .orElse(false);
            } catch (IOException | RuntimeException e) {
                log.trace("layer probe {} {} failed: {}", dir, rel, e.toString());
                return false;
            }
        }
        Path p = dir.resolve(rel.startsWith("/") ? rel.substring(1) : rel);
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:ino,dev,mode", LinkOption.NOFOLLOW_LINKS);
            boolean regular = ((((Number) a.get("mode")).intValue()) & 0170000) == 0100000;
            return regular && ((Number) a.get("ino")).longValue() == ino
                    && (dev < 0 || ((Number) a.get("dev")).longValue() == dev);
        } catch (IOException | RuntimeException e) {
            log.trace("layer probe {} failed: {}", p, e.toString());
            return false;
        }
    }
}
