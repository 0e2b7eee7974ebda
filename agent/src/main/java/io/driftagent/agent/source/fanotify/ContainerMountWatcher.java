package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.host.Errno;
import io.driftagent.agent.host.HostMountTable;
import io.driftagent.agent.host.MountInfoEntry;
import io.driftagent.agent.host.MountInfoParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Marks the filesystems of containers started after the source, before their first exec. The host-root mark alone
 * sees a new container's execs only as layer files of the host disk, never its tmpfs volumes, and a process that is
 * gone before its event is read is then tied to no container.
 *
 * <p>A listener of the {@link HostMountTable} watcher (one thread in poll(2) on a host process's {@code mountinfo};
 * it wakes this listener again when a container process search below is due). Each new mount of the host
 * table that containers use (a runtime's rootfs overlay, a kubelet tmpfs volume, a sandbox's shm) is
 * marked through {@code <procRoot>/<host pid>/root/<mount point>} when it is an overlay or lies under a runtime's or the
 * kubelet's directory ({@link #containersUse}). For each new overlay, the container's first
 * process is looked for (a process whose root is that overlay, retried for a few seconds while the runtime starts
 * it): the mounts of its namespace (tmpfs and volumes a runtime mounts inside the container, invisible in the host
 * table) are marked through {@code <procRoot>/<pid>/root/<mount point>} and their mount ids remembered with the
 * container's cgroup and mount namespace ({@link MountOwners}). A mark that fails is counted and logged.
 */
final class ContainerMountWatcher implements HostMountTable.Listener {

    /** Marks a path's filesystem in the source's group, and drops what was marked through a path. */
    interface Marker {
        MarkKind mark(Path path) throws IOException;

        void unmark(Path path);
    }

    private static final Logger log = LoggerFactory.getLogger(ContainerMountWatcher.class);
    private static final int IDLE_POLL_MS = 500;
    private static final long[] FIND_PROCESS_AFTER_MS = {1, 5, 15, 40, 100, 250, 500, 1000, 2000, 4000, 8000};
    private static final Set<String> PSEUDO_FILESYSTEMS = Set.of("proc", "sysfs", "cgroup", "cgroup2", "devpts",
            "mqueue", "nsfs", "bpf", "tracefs", "debugfs", "securityfs", "fusectl", "configfs", "pstore",
            "binfmt_misc", "autofs", "rpc_pipefs", "nfsd", "efivarfs", "selinuxfs", "hugetlbfs");

    /**
     * Where runtimes and the kubelet mount what containers use besides their rootfs overlay (kubelet volumes, a
     * sandbox's /dev/shm): a new host mount elsewhere is the host's own business (marking it would only report host
     * execs, and a tmpfs holding an overlay's layers twice).
     */
    private static final List<String> RUNTIME_DIRS = List.of("/var/lib/kubelet/", "/run/containerd/",
            "/var/lib/containerd/", "/var/lib/docker/", "/run/docker/", "/var/lib/containers/", "/run/containers/",
            "/var/lib/rancher/", "/run/k3s/");

    private final Native nat;
    private final Path procRoot;
    private final Path hostRoot;
    private final Marker marker;
    /** Told of every change of the host's overlays, with the overlays this change added (maybe gone again already). */
    private final java.util.function.Consumer<List<OverlayLayers.SeenOverlay>> overlaysChanged;
    /** Told of each new overlay as the kernel's notice describes it (its writable layer's creation time is read). */
    private final java.util.function.Consumer<OverlayMount> overlayNoticed;
    private final MountOwners owners;
    private final ProcessFactsReader procReader;
    private final LongAdder marked;
    private final LongAdder failed;
    private final ByteBuffer statx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final MountInfoParser parser = new MountInfoParser();
    /** host mount id -> the path it was marked through */
    private final Map<Integer, Path> hostMarks = new HashMap<>();
    /** overlay dev -> the container process search, while it runs */
    private final Map<Long, Search> searches = new HashMap<>();
    /** overlay dev -> the paths marked through its container's process */
    private final Map<Long, List<Path>> containerMarks = new HashMap<>();
    /** overlay dev -> the mount ids of its container's namespace learned into the owners */
    private final Map<Long, List<Long>> learnedMountIds = new HashMap<>();
    /** overlay dev -> the host mount ids it is mounted at */
    private final Map<Long, Set<Integer>> overlayMountIds = new HashMap<>();

    private static final class Search {
        final long startNs;
        int attempt;

        Search(long startNs) {
            this.startNs = startNs;
        }

        long dueNs() {
            return startNs + TimeUnit.MILLISECONDS.toNanos(FIND_PROCESS_AFTER_MS[attempt]);
        }
    }

    /**
     * @param hostProcess a process of the host's mount namespace whose {@code root} the agent can read (pid 1, else
     *                    kthreadd); the table listened to is that process's {@code mountinfo}
     */
    ContainerMountWatcher(Native nat, Path procRoot, int hostProcess, Marker marker,
                          java.util.function.Consumer<List<OverlayLayers.SeenOverlay>> overlaysChanged,
                          java.util.function.Consumer<OverlayMount> overlayNoticed,
                          MountOwners owners, ProcessFactsReader procReader, LongAdder marked, LongAdder failed) {
        this.nat = nat;
        this.procRoot = procRoot;
        this.hostRoot = procRoot.resolve(Integer.toString(hostProcess)).resolve("root");
        this.marker = marker;
        this.overlaysChanged = overlaysChanged;
        this.overlayNoticed = overlayNoticed;
        this.owners = owners;
        this.procReader = procReader;
        this.marked = marked;
        this.failed = failed;
    }

    @Override
    public int wakeWithinMs() {
        return timeoutMs();
    }

    @Override
    public void woke() {
        searchContainerProcesses();
    }

    private int timeoutMs() {
        long now = System.nanoTime();
        long next = Long.MAX_VALUE;
        for (Search s : searches.values()) {
            next = Math.min(next, s.dueNs());
        }
        if (next == Long.MAX_VALUE) {
            return IDLE_POLL_MS;
        }
        return (int) Math.max(0, Math.min(IDLE_POLL_MS, TimeUnit.NANOSECONDS.toMillis(next - now)));
    }

    /** On the mount notice reader's thread: a new overlay, told while it is mounted. */
    @Override
    public void attached(MountInfoEntry entry) {
        if (entry.fsType().equals("overlay")) {
            OverlayMountTable.overlays(List.of(entry)).forEach(overlayNoticed);
        }
    }

    /** Marks the new mounts of the host table, forgets the removed ones. */
    @Override
    public void changed(HostMountTable.Change change) {
        long now = System.nanoTime();
        List<OverlayLayers.SeenOverlay> seen = new ArrayList<>();
        Set<MountKey> mountsNow = new java.util.HashSet<>();
        Map<Long, Long> hostTable = new HashMap<>();
        boolean overlaysChangedNow = false;
        for (MountInfoEntry e : change.current()) {
            mountsNow.add(MountKey.of(e));
            hostTable.put((long) e.mountId(), e.dev());
        }
        owners.hostTable(hostTable);
        // removals first: an overlay mounted in this change may have the device number of one unmounted in it (the
        // kernel hands anonymous device numbers out again at once), and the group's filesystem mark of the old one,
        // still registered under that number, would pass for the new one's
        for (MountInfoEntry e : change.removed()) {
            if (mountsNow.contains(MountKey.of(e))) {
                continue; // still mounted, only its line changed (its propagation peer group, say)
            }
            // gone, though a new mount may have its id: mount ids are handed out again at once, like devices
            if (hostMarks.containsKey(e.mountId())) {
                Path through = hostMarks.remove(e.mountId());
                if (through != null) {
                    marker.unmark(through);
                }
            }
            if (e.fsType().equals("overlay")) {
                Set<Integer> mounts = overlayMountIds.get(e.dev());
                if (mounts != null && mounts.remove(e.mountId()) && mounts.isEmpty()) {
                    overlayMountIds.remove(e.dev());
                    long unmountedAt = change.noticedAt(e, now);
                    owners.overlayUnmounted(e.dev(), unmountedAt);
                    for (OverlayMount m : OverlayMountTable.overlays(List.of(e))) {
                        seen.add(new OverlayLayers.SeenOverlay(m, -1L, unmountedAt));
                    }
                    overlaysChangedNow = true; // the layers forget it now (and keep it as gone, for its late execs)
                    searches.remove(e.dev());
                    owners.forgetRoot(e.dev());
                    List<Long> learned = learnedMountIds.remove(e.dev());
                    if (learned != null) {
                        owners.forget(learned);
                    }
                    List<Path> gone = containerMarks.remove(e.dev());
                    if (gone != null) {
                        gone.forEach(marker::unmark);
                    }
                }
            }
        }
        // overlays mounted and unmounted since the last read (the kernel told of them), before those mounted now: an
        // anonymous device is reused at once, so one of them may have had the device of an overlay added below
        List<HostMountTable.Transient> transients = new ArrayList<>(change.transients());
        transients.sort(java.util.Comparator.comparingLong(HostMountTable.Transient::attachedNanos));
        for (HostMountTable.Transient t : transients) {
            MountInfoEntry e = t.entry();
            if (e.fsType().equals("overlay") && !overlayMountIds.containsKey(e.dev())) {
                overlaysChangedNow = true;
                owners.overlayMounted(e.dev(), t.attachedNanos());
                owners.overlayUnmounted(e.dev(), t.detachedNanos());
                for (OverlayMount m : OverlayMountTable.overlays(List.of(e))) {
                    seen.add(new OverlayLayers.SeenOverlay(m, t.attachedNanos(), t.detachedNanos()));
                }
                log.debug("fanotify: overlay dev {} at {} was mounted and unmounted between two reads of the mount"
                        + " table", e.dev(), e.mountPoint());
            }
        }
        for (MountInfoEntry e : change.added()) {
            if (e.fsType().equals("overlay")
                    && overlayMountIds.computeIfAbsent(e.dev(), d -> new java.util.HashSet<>()).add(e.mountId())
                    && overlayMountIds.get(e.dev()).size() == 1) {
                overlaysChangedNow = true;
                long mountedAt = change.noticedAt(e, now);
                for (OverlayMount m : OverlayMountTable.overlays(List.of(e))) {
                    seen.add(new OverlayLayers.SeenOverlay(m, mountedAt, -1L));
                }
                owners.overlayMounted(e.dev(), mountedAt);
                searches.put(e.dev(), new Search(System.nanoTime()));
            }
            if (hostMarks.containsKey(e.mountId()) || !containersUse(e)) {
                continue;
            }
            Path through = hostRoot.resolve(e.mountPoint().substring(1));
            if (mark(through, e.fsType(), e.mountPoint())) {
                hostMarks.put(e.mountId(), through);
            } else {
                hostMarks.put(e.mountId(), null); // counted once; not retried for this mount
            }
        }
        if (overlaysChangedNow) {
            overlaysChanged.accept(seen);
        }
    }

    /**
     * What tells a mount from another one given its id later: a container removed and the next one started between
     * two reads of the table get the same mount id and overlay device (both the lowest free), at another mount point.
     */
    private record MountKey(int mountId, long dev, String mountPoint) {
        static MountKey of(MountInfoEntry e) {
            return new MountKey(e.mountId(), e.dev(), e.mountPoint());
        }
    }

    /** A container's rootfs overlay, or a non-pseudo filesystem the runtime or kubelet mounted for containers. */
    static boolean containersUse(MountInfoEntry e) {
        if (e.fsType().equals("overlay")) {
            return true;
        }
        if (PSEUDO_FILESYSTEMS.contains(e.fsType())) {
            return false;
        }
        String mp = e.mountPoint().endsWith("/") ? e.mountPoint() : e.mountPoint() + "/";
        return RUNTIME_DIRS.stream().anyMatch(mp::startsWith);
    }

    private boolean mark(Path through, String fsType, String mountPoint) {
        try {
            MarkKind kind = marker.mark(through);
            marked.increment();
            log.debug("fanotify: {} at {} marked through {} ({})", fsType, mountPoint, through, kind);
            return true;
        } catch (IOException | RuntimeException e) {
            String why = String.valueOf(e.getMessage());
            if (why.endsWith(": " + Native.strerror(Errno.ENOENT))) {
                // unmounted again before we looked, or hidden under another mount: nothing can be exec'd from it
                log.debug("fanotify: the {} at {} is gone or hidden: {}", fsType, mountPoint, why);
                return false;
            }
            failed.increment();
            log.warn("fanotify: cannot mark the {} mounted at {}: {}; execs from it are not seen", fsType, mountPoint,
                    why);
            return false;
        }
    }

    /** Looks, for each new overlay whose search is due, for a process whose root it is. */
    private void searchContainerProcesses() {
        if (searches.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        Map<Long, Search> due = new HashMap<>();
        searches.forEach((dev, s) -> {
            if (s.dueNs() <= now) {
                due.put(dev, s);
            }
        });
        if (due.isEmpty()) {
            return;
        }
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(procRoot)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0)) || name.equals(Long.toString(self))) {
                    continue;
                }
                statx.clear();
                if (nat.libc.statx(Native.AT_FDCWD, dir + "/root", 0, Native.STATX_BASIC_STATS, statx) != 0) {
                    continue;
                }
                long rootDev = DeviceNumber.makedev(Integer.toUnsignedLong(statx.getInt(136)),
                        Integer.toUnsignedLong(statx.getInt(140)));
                if (due.remove(rootDev) != null && watchContainerOf(Integer.parseInt(name), rootDev)) {
                    searches.remove(rootDev);
                }
                if (due.isEmpty()) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("fanotify: cannot list {}: {}", procRoot, e.toString());
        }
        for (Map.Entry<Long, Search> left : due.entrySet()) {
            Search s = left.getValue();
            if (++s.attempt >= FIND_PROCESS_AFTER_MS.length) {
                searches.remove(left.getKey());
                log.debug("fanotify: no process runs in the overlay of dev {}: its own mounts are not watched",
                        left.getKey());
            }
        }
        // the ones not due keep their schedule
    }

    /** Marks the mounts of {@code pid}'s namespace and remembers whose they are. */
    private boolean watchContainerOf(int pid, long overlayDev) {
        ProcessFacts facts = procReader.read(pid);
        List<MountInfoEntry> entries;
        try {
            entries = parser.parse(new String(Files.readAllBytes(procRoot.resolve(pid + "/mountinfo")),
                    StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return false;
        }
        if (!facts.known()) {
            return false;
        }
        MountOwners.Owner owner = new MountOwners.Owner(facts.cgroupId(), facts.mountNsId(),
                owners.mountedSince(overlayDev));
        owners.learnRoot(overlayDev, owner);
        List<Path> marks = new ArrayList<>();
        Path root = procRoot.resolve(pid + "/root");
        List<Long> learned = new ArrayList<>(entries.size());
        for (MountInfoEntry e : entries) {
            owners.learn(e.mountId(), owner);
            learned.add((long) e.mountId());
            if (PSEUDO_FILESYSTEMS.contains(e.fsType()) || e.mountPoint().equals("/") || e.dev() == overlayDev) {
                continue;
            }
            Path through = root.resolve(e.mountPoint().substring(1));
            if (mark(through, e.fsType(), "container pid " + pid + ":" + e.mountPoint())) {
                marks.add(through);
            }
        }
        containerMarks.put(overlayDev, marks);
        learnedMountIds.put(overlayDev, learned);
        log.debug("fanotify: container process {} (overlay dev {}): {} mounts remembered, {} marked", pid, overlayDev,
                entries.size(), marks.size());
        return true;
    }
}
