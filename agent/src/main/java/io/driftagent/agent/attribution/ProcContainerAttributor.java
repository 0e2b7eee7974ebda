package io.driftagent.agent.attribution;

import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attributes execs to containers from {@code /proc} and the cgroup hierarchy.
 *
 * <p>Order of evidence: the event's cgroup id (→ cgroup path → container), else the live process's
 * {@code /proc/<tgid>/cgroup}; when the process is already gone and its cgroup unknown, the container whose mount
 * namespace, then whose private device (overlay root, tmpfs), the exec'd file belongs to. A container's filesystems
 * are read from {@code /proc/<tgid>/mountinfo} at first sight and cached; they are re-read (rate-limited) when an
 * exec comes from a device the cache does not know (a tmpfs mounted later). A container whose cgroup disappeared is
 * kept for a grace period, so events still queued attribute, then forgotten and handed to {@code onForget}.
 *
 * <p>No host process is ever a container: an exec in the mount namespace of the host's pid 1 (else of kthreadd, pid 2:
 * the initial one) is the host's, whatever
 * its cgroup path looks like (every container runtime gives a container a mount namespace of its own; a host's
 * service may sit in a cgroup whose path parses like a container's, e.g. {@code /process_api/<hex>}). Cgroup paths
 * read from {@code /proc} go through the agent's {@link CgroupNamespaceView}, so a private cgroup namespace (the
 * agent in a pod) reads them as the host would. Thread-safe.
 */
public final class ProcContainerAttributor implements ContainerAttributor {

    private static final Logger LOG = LoggerFactory.getLogger(ProcContainerAttributor.class);
    /** Live members of a container's cgroup tried when the exec'ing process is gone. */
    private static final int MAX_MEMBERS_TRIED = 4;
    private static final int MAX_HOST_CGROUPS_REMEMBERED = 65_536;
    private static final Set<String> PSEUDO_FILESYSTEMS = Set.of("proc", "sysfs", "devpts", "mqueue", "cgroup",
            "cgroup2", "securityfs", "debugfs", "tracefs", "bpf", "pstore", "configfs", "fusectl", "binfmt_misc");

    private final Path procRoot;
    private final CgroupMounts cgroupMounts;
    private final CgroupIdResolver cgroupIds;
    private final ContainerFilesystemsReader filesystemsReader;
    private final Clock clock;
    private final Duration goneGrace;
    private final Duration sweepInterval;
    private final Consumer<ContainerContext> onForget;
    private final CgroupNamespaceView cgroupView;
    /** The mount namespace of the host's pid 1; 0 when unknown (then the cgroup alone decides). */
    private final long hostMountNs;
    private final CgroupPathParser parser = new CgroupPathParser();
    private final CapturedContainers captures;

    private final Map<ContainerId, Tracked> containers = new ConcurrentHashMap<>();
    private final Map<Long, ContainerId> byCgroupId = new ConcurrentHashMap<>();
    private final Map<Long, ContainerId> byMountNs = new ConcurrentHashMap<>();
    private final Map<Long, Set<ContainerId>> byPrivateDev = new ConcurrentHashMap<>();
    private final Set<Long> hostCgroupIds = ConcurrentHashMap.newKeySet();
    private volatile long lastSweepMillis;

    private final LongAdder attributedByCgroupId = new LongAdder();
    private final LongAdder attributedByProc = new LongAdder();
    private final LongAdder attributedByMountNs = new LongAdder();
    private final LongAdder attributedByDev = new LongAdder();
    private final LongAdder hostExecs = new LongAdder();
    private final LongAdder hostMountNsExecs = new LongAdder();
    private final LongAdder unattributed = new LongAdder();
    /** Execs whose process /proc could no longer describe at their pid (gone, or the pid reused): see attribute. */
    private final LongAdder notReadAtPid = new LongAdder();
    private final LongAdder unattributedMayBeDrift = new LongAdder();
    private final LongAdder rootsFromHostMounts = new LongAdder();
    private final LongAdder attributedByRootfs = new LongAdder();
    private final LongAdder attributedByCapture = new LongAdder();
    private final LongAdder filesystemsFromCapture = new LongAdder();
    /** containerd's rootfs mount of a task: {@code <state>/io.containerd.runtime.v2.task/<namespace>/<id>/rootfs}. */
    private static final Pattern CONTAINERD_ROOTFS =
            Pattern.compile(".*/io\\.containerd\\.runtime\\.v2\\.task/[^/]+/([^/]+)/rootfs");

    /**
     * @param procRoot          the host's {@code /proc} (the agent needs hostPID)
     * @param cgroupMounts      the host's cgroup mounts ({@link CgroupMounts#fromMountInfo})
     * @param cgroupIds         cgroup id → path on the unified hierarchy; null when there is none (pure v1)
     * @param filesystemsReader reads a container's mounts
     * @param goneGrace         how long a container whose cgroup disappeared stays attributable
     * @param sweepInterval     least time between two checks for vanished containers
     * @param onForget          called once per forgotten container (release its image index there)
     */
    public ProcContainerAttributor(Path procRoot, CgroupMounts cgroupMounts, CgroupIdResolver cgroupIds,
                                   ContainerFilesystemsReader filesystemsReader, Clock clock, Duration goneGrace,
                                   Duration sweepInterval, Consumer<ContainerContext> onForget) {
        this(procRoot, cgroupMounts, CgroupNamespaceView.host(), cgroupIds, filesystemsReader, clock, goneGrace,
                sweepInterval, onForget);
    }

    /**
     * @param cgroupView how this process sees other processes' cgroup paths ({@link CgroupNamespaceView#discover});
     *                   the host's pid 1 ({@code procRoot/1}) is the reference for the host's mount namespace
     */
    public ProcContainerAttributor(Path procRoot, CgroupMounts cgroupMounts, CgroupNamespaceView cgroupView,
                                   CgroupIdResolver cgroupIds, ContainerFilesystemsReader filesystemsReader, Clock clock,
                                   Duration goneGrace, Duration sweepInterval, Consumer<ContainerContext> onForget) {
        this(procRoot, cgroupMounts, cgroupView, cgroupIds, filesystemsReader, clock, goneGrace, sweepInterval,
                onForget, CapturedContainers.NONE);
    }

    /**
     * @param captures the containers captured when they appeared: what an exec falls back on when its process, its
     *                 container's processes and cgroup are gone (a short-lived container)
     */
    public ProcContainerAttributor(Path procRoot, CgroupMounts cgroupMounts, CgroupNamespaceView cgroupView,
                                   CgroupIdResolver cgroupIds, ContainerFilesystemsReader filesystemsReader, Clock clock,
                                   Duration goneGrace, Duration sweepInterval, Consumer<ContainerContext> onForget,
                                   CapturedContainers captures) {
        this.captures = java.util.Objects.requireNonNull(captures, "captures");
        this.procRoot = procRoot;
        this.cgroupView = cgroupView;
        this.cgroupMounts = cgroupMounts;
        this.cgroupIds = cgroupIds;
        this.filesystemsReader = filesystemsReader;
        this.clock = clock;
        this.goneGrace = goneGrace;
        this.sweepInterval = sweepInterval;
        this.onForget = onForget;
        this.lastSweepMillis = clock.millis();
        long init = mountNamespaceOf(1);
        // pid 1 may have capabilities the agent lacks (then its ns links are not readable); kthreadd (pid 2), like
        // every kernel thread, is in the initial mount namespace, where the host's init and services are
        this.hostMountNs = init != 0 ? init : mountNamespaceOf(2);
        if (hostMountNs == 0) {
            LOG.warn("cannot read the mount namespace of the host's pid 1 or 2 ({}): host processes are told from"
                    + " containers by their cgroup alone", procRoot.resolve("1/ns/mnt"));
        }
    }

    /**
     * For the host the agent runs on: cgroup mounts from {@code /proc/self/mountinfo}, layer paths under
     * {@code hostRoot}, a 100 ms rescan limit (an exec of a container whose processes all exited already can only be
     * attributed by its cgroup id while its cgroup still exists, which is briefly), a 60 s grace for vanished
     * containers, sweeps every 5 s.
     */
    public static ProcContainerAttributor onThisHost(Path procRoot, Path hostRoot, Clock clock,
                                                     Consumer<ContainerContext> onForget) throws IOException {
        return onThisHost(procRoot, hostRoot, clock, onForget, CapturedContainers.NONE);
    }

    /** {@link #onThisHost(Path, Path, Clock, Consumer)}, falling back on the containers captured at their start. */
    public static ProcContainerAttributor onThisHost(Path procRoot, Path hostRoot, Clock clock,
                                                     Consumer<ContainerContext> onForget, CapturedContainers captures)
            throws IOException {
        CgroupMounts mounts = CgroupMounts.ofThisProcess(procRoot);
        CgroupIdResolver ids = mounts.unified()
                .map(u -> new CgroupIdResolver(u, clock, Duration.ofMillis(100), 200_000)).orElse(null);
        CgroupNamespaceView view = CgroupNamespaceView.discover(mounts, ProcessHandle.current().pid());
        return new ProcContainerAttributor(procRoot, mounts, view, ids,
                new ContainerFilesystemsReader(procRoot, hostRoot), clock, Duration.ofSeconds(60), Duration.ofSeconds(5),
                onForget, captures);
    }

    @Override
    public Optional<ContainerContext> attribute(ExecEvent event) {
        maybeSweep();
        if (hostMountNs != 0 && event.mountNsId() == hostMountNs) {
            // an exec in the host's mount namespace is not a container's process, even in a container's cgroup (the
            // runtime's own init, e.g. runc re-executing itself, joins the cgroup before it enters the container)
            hostMountNsExecs.increment();
            hostExecs.increment();
            return Optional.empty();
        }
        long cgroupId = event.cgroupId();
        if (cgroupId != 0) {
            ContainerId known = byCgroupId.get(cgroupId);
            if (known != null) {
                Tracked tracked = containers.get(known);
                if (tracked != null) {
                    attributedByCgroupId.increment();
                    return Optional.of(refreshedIfUnknownDev(tracked, event));
                }
            }
            if (hostCgroupIds.contains(cgroupId)) {
                hostExecs.increment();
                return Optional.empty();
            }
            Optional<CapturedContainer> captured = captures.find(event)
                    .filter(c -> capturedByCgroupId(c, cgroupId));
            if (captured.isPresent()) {
                // captured when it appeared: exact, without walking the cgroup tree (rate-limited; a container that
                // lived less than the walk interval may be gone before the next walk)
                attributedByCapture.increment();
                return Optional.of(track(captured.get().identity(), cgroupId, event));
            }
            Optional<String> path = cgroupIds == null ? Optional.empty() : cgroupIds.pathOf(cgroupId);
            if (path.isPresent()) {
                Optional<CgroupIdentity> identity = parser.parse(path.get());
                if (identity.isEmpty()) {
                    rememberHostCgroup(cgroupId);
                    hostExecs.increment();
                    return Optional.empty();
                }
                if (inHostMountNamespace(event)) {
                    return Optional.empty();
                }
                attributedByCgroupId.increment();
                return Optional.of(track(identity.get(), cgroupId, event));
            }
        }
        if (notTheProcessAtItsPid(event)) {
            return attributeGoneProcess(event);
        }
        Optional<String> procCgroup = readSmall(procRoot.resolve(event.tgid() + "/cgroup"));
        if (procCgroup.isPresent()) {
            Optional<CgroupIdentity> identity = parseProcCgroup(procCgroup.get());
            if (identity.isEmpty()) {
                hostExecs.increment();
                return Optional.empty();
            }
            if (inHostMountNamespace(event)) {
                return Optional.empty();
            }
            attributedByProc.increment();
            return Optional.of(track(identity.get(), cgroupId, event));
        }
        return attributeGoneProcess(event);
    }

    /**
     * Whether /proc at the event's pid cannot describe the exec's process, for a source that read /proc itself when
     * it read the event (fanotify): the process was already gone then (no start time, no mount namespace read), or
     * the process there now is in another mount namespace than the one the source read. Pids are reused once freed
     * (within a minute on a node that execs thousands of times a second): reading /proc now would place the exec in
     * the new process's cgroup, e.g. the host's, and lose it silently. Counted in {@code pid_reused}.
     */
    private boolean notTheProcessAtItsPid(ExecEvent event) {
        if (event.source() != ExecEvent.SourceKind.FANOTIFY) {
            return false;
        }
        boolean goneBefore = event.startTimeNs() == 0 && event.mountNsId() == 0;
        boolean another = !goneBefore && event.mountNsId() != 0 && mountNamespaceOf(event.tgid()) != event.mountNsId();
        if (goneBefore || another) {
            notReadAtPid.increment();
            LOG.debug("exec of {} pid={}: /proc/{} is not read ({}): placed by what the event carries",
                    event.filename(), event.tgid(), event.tgid(), goneBefore ? "the process was gone when its source"
                            + " read the event" : "another mount namespace than the event's: the pid was reused");
            return true;
        }
        return false;
    }

    private Optional<CgroupIdentity> parseProcCgroup(String text) {
        return parser.parseProcCgroup(cgroupView.translateProcCgroup(text), cgroupMounts.unified().isPresent());
    }

    /**
     * Whether a process whose cgroup names a container is in fact the host's: it shares the host pid 1's mount
     * namespace (the event's, else read now from /proc; unknown counts as not). Counted as a host exec.
     */
    private boolean inHostMountNamespace(ExecEvent event) {
        if (hostMountNs == 0) {
            return false;
        }
        long ns = event.mountNsId() != 0 ? event.mountNsId() : mountNamespaceOf(event.tgid());
        if (ns != hostMountNs) {
            return false;
        }
        hostMountNsExecs.increment();
        hostExecs.increment();
        LOG.debug("exec pid={} {} is in a container's cgroup but in the host's mount namespace: host", event.tgid(),
                event.filename());
        return true;
    }

    /**
     * The process exited before we looked: the container captured at its start (by cgroup id, mount namespace or
     * overlay device, at the exec's time), else its mount namespace, then a device only one known container has.
     */
    private Optional<ContainerContext> attributeGoneProcess(ExecEvent event) {
        Optional<CapturedContainer> captured = captures.find(event);
        if (captured.isPresent()) {
            attributedByCapture.increment();
            return Optional.of(track(captured.get().identity(), event.cgroupId(), event));
        }
        ContainerId byNs = event.mountNsId() == 0 ? null : byMountNs.get(event.mountNsId());
        if (byNs != null && containers.containsKey(byNs)) {
            attributedByMountNs.increment();
            return Optional.of(containers.get(byNs).context);
        }
        // a device its source says does not tell the exec's container (it served several overlays meanwhile) is not
        // asked: neither which known container has it now, nor whose rootfs is mounted with it now
        boolean byDevice = !event.flags().overlayOwnerDoubtful();
        Set<ContainerId> owners = byDevice ? byPrivateDev.get(event.file().dev()) : null;
        if (owners != null && owners.size() == 1) {
            Tracked tracked = containers.get(owners.iterator().next());
            // (for an overlay's file, not a captured container: the registry, which knows when it had its root's
            // device, did not place the exec in its life)
            if (tracked != null && (!event.flags().overlay() || captures.byId(tracked.identity.id()).isEmpty())) {
                attributedByDev.increment();
                return Optional.of(tracked.context);
            }
        }
        Optional<ContainerContext> byRootfs = byDevice ? attributeByHostRootfs(event) : Optional.empty();
        if (byRootfs.isPresent()) {
            attributedByRootfs.increment();
            return byRootfs;
        }
        unattributed.increment();
        ExecEvent.Flags flags = event.flags();
        if (flags.overlay() && !flags.upperLayer() && !flags.memfd() && !flags.unlinked()) {
            LOG.debug("exec pid={} cgroupId={} dev={} not attributable: process gone, container unknown",
                    event.tgid(), event.cgroupId(), event.file().dev());
        } else {
            // a lost exec that may have been drift: counted (unattributedMayBeDrift) and said
            unattributedMayBeDrift.increment();
            LOG.info("exec of {} (pid={} cgroupId={} dev={} overlay={} upper={}) that may be drift is not attributable:"
                    + " the process and its container were gone before it was seen", event.filename(), event.tgid(),
                    event.cgroupId(), event.file().dev(), flags.overlay(), flags.upperLayer());
        }
        return Optional.empty();
    }

    /**
     * A container never seen, whose process is gone and whose cgroup the event does not carry (the fanotify source
     * reads it from /proc, too late for a short-lived process): the overlay the kernel placed the file on is still
     * mounted on the host at a path the runtime chose, which names the container (containerd:
     * {@code .../io.containerd.runtime.v2.task/<namespace>/<id>/rootfs}); the container's cgroup, looked up by that id,
     * identifies it. Nothing of it comes from inside the container. Not for a container the capture registry knows:
     * the device is its now, not necessarily at the exec.
     */
    private Optional<ContainerContext> attributeByHostRootfs(ExecEvent event) {
        if (!event.flags().overlay() || cgroupIds == null) {
            return Optional.empty();
        }
        Optional<ContainerFilesystemsReader.HostRootfs> rootfs = filesystemsReader.hostRootfs(event.file().dev());
        if (rootfs.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = CONTAINERD_ROOTFS.matcher(rootfs.get().mountPoint());
        if (!m.matches()) {
            return Optional.empty();
        }
        String id = m.group(1);
        if (captures.byId(new ContainerId(id)).isPresent()) {
            // captured when its rootfs appeared: the registry, which knows when, did not place the exec in its life
            // (the device may have been another overlay's at the exec, one that was no container's)
            return Optional.empty();
        }
        Optional<CgroupIdentity> identity = cgroupIds.pathOfContainer(id).flatMap(parser::parse)
                .filter(i -> i.id().value().equals(id));
        if (identity.isEmpty()) {
            return Optional.empty();
        }
        Tracked tracked = containers.computeIfAbsent(identity.get().id(), k -> new Tracked(identity.get()));
        if (tracked.context.filesystems() == null) {
            synchronized (tracked) {
                tracked.update(rootfs.get().filesystems(), clock.millis());
            }
            for (long dev : tracked.privateDevs) {
                byPrivateDev.computeIfAbsent(dev, d -> ConcurrentHashMap.newKeySet()).add(tracked.identity.id());
            }
        }
        return Optional.of(tracked.context);
    }

    private ContainerContext track(CgroupIdentity identity, long cgroupId, ExecEvent event) {
        Tracked tracked = containers.computeIfAbsent(identity.id(), id -> firstSight(identity, event));
        if (tracked.context.filesystems() == null) {
            readFilesystemsFor(tracked, event);
        }
        if (cgroupId != 0) {
            byCgroupId.put(cgroupId, identity.id());
        }
        return refreshedIfUnknownDev(tracked, event);
    }

    private Tracked firstSight(CgroupIdentity identity, ExecEvent event) {
        Tracked tracked = new Tracked(identity);
        readFilesystemsFor(tracked, event);
        LOG.debug("container {} ({}) first seen, filesystems {}", identity.id(), identity.runtime(),
                tracked.context.filesystems() == null ? "unknown" : "read");
        return tracked;
    }

    /**
     * Reads the mounts through {@code pid}; when that process is gone already (a short-lived exec, often the first
     * one seen of a container that was running before the agent), through another live process of the container.
     */
    private void readFilesystemsFor(Tracked tracked, ExecEvent event) {
        int pid = event.tgid();
        if (readFilesystemsThrough(tracked, pid)) {
            return;
        }
        for (int member : livePidsOf(tracked.identity.cgroupPath())) {
            if (member != pid && readFilesystemsThrough(tracked, member)) {
                return;
            }
        }
        if (tracked.context.filesystems() == null) {
            Optional<CapturedContainer> captured = captures.byId(tracked.identity.id());
            if (captured.isPresent()) {
                synchronized (tracked) {
                    tracked.update(captured.get().filesystems(), clock.millis());
                }
                for (long dev : tracked.privateDevs) {
                    byPrivateDev.computeIfAbsent(dev, d -> ConcurrentHashMap.newKeySet()).add(tracked.identity.id());
                }
                filesystemsFromCapture.increment();
                return;
            }
        }
        if (tracked.context.filesystems() == null && event.flags().overlay()) {
            // no process left (a short-lived container): its rootfs overlay, by the kernel's device of the exec'd file,
            // as long as the runtime has not unmounted it
            Optional<ContainerFilesystems> root = filesystemsReader.readHostOverlay(event.file().dev());
            if (root.isPresent()) {
                synchronized (tracked) {
                    tracked.update(root.get(), clock.millis());
                }
                rootsFromHostMounts.increment();
                LOG.debug("container {}: no process left, root overlay read from the host's mount table",
                        tracked.identity.id());
            }
        }
    }

    /** A few pids from the container cgroup's {@code cgroup.procs} (every process of a container sees its mounts). */
    private List<Integer> livePidsOf(String cgroupPath) {
        Optional<Path> tree = cgroupMounts.livenessTree();
        if (tree.isEmpty() || cgroupPath.length() < 2) {
            return List.of();
        }
        Optional<String> procs = readSmall(tree.get().resolve(cgroupPath.substring(1)).resolve("cgroup.procs"));
        List<Integer> pids = new java.util.ArrayList<>(MAX_MEMBERS_TRIED);
        for (String line : procs.orElse("").split("\n")) {
            if (pids.size() == MAX_MEMBERS_TRIED) {
                break;
            }
            try {
                pids.add(Integer.parseInt(line.trim()));
            } catch (NumberFormatException notAPid) {
                // an empty last line, or a truncated one
            }
        }
        return pids;
    }

    /** Reads the mounts through {@code pid}, only if that pid is (still) in this container; true when read. */
    private boolean readFilesystemsThrough(Tracked tracked, int pid) {
        Optional<String> procCgroup = readSmall(procRoot.resolve(pid + "/cgroup"));
        boolean sameContainer = procCgroup
                .flatMap(this::parseProcCgroup)
                .map(i -> i.id().equals(tracked.identity.id())).orElse(false);
        if (!sameContainer || isHostMountNs(mountNamespaceOf(pid))) {
            return false;
        }
        Optional<ContainerFilesystems> fs = filesystemsReader.read(pid);
        if (fs.isEmpty() || isHostMountNs(mountNamespaceOf(pid))) {
            // a process of the container's cgroup still (or then) in the host's mount namespace (the runtime's init
            // before it pivots into the container's root) shows the host's mounts, not the container's
            return false;
        }
        synchronized (tracked) {
            tracked.update(fs.get(), clock.millis());
        }
        long mountNs = mountNamespaceOf(pid);
        if (mountNs != 0) {
            byMountNs.put(mountNs, tracked.identity.id());
            tracked.mountNs = mountNs;
        }
        for (long dev : tracked.privateDevs) {
            byPrivateDev.computeIfAbsent(dev, d -> ConcurrentHashMap.newKeySet()).add(tracked.identity.id());
        }
        return true;
    }

    private ContainerContext refreshedIfUnknownDev(Tracked tracked, ExecEvent event) {
        ExecEvent.Flags flags = event.flags();
        long dev = event.file().dev();
        if (tracked.context.filesystems() != null && !tracked.knownDevs.contains(dev) && !flags.memfd()
                && !flags.unlinked() && clock.millis() - tracked.readAtMillis >= 1000) {
            readFilesystemsFor(tracked, event);
        }
        return tracked.context;
    }

    /** Marks containers whose cgroup vanished; forgets those gone longer than the grace period. */
    public void sweep() {
        long now = clock.millis();
        lastSweepMillis = now;
        for (Tracked tracked : List.copyOf(containers.values())) {
            if (tracked.goneSinceMillis < 0) {
                if (!cgroupExists(tracked.identity.cgroupPath())) {
                    tracked.goneSinceMillis = now;
                }
            } else if (now - tracked.goneSinceMillis >= goneGrace.toMillis()) {
                forget(tracked);
            }
        }
    }

    /** Whether this container is tracked (seen and not yet forgotten). */
    public boolean isTracked(ContainerId id) {
        return containers.containsKey(id);
    }

    /**
     * Execs not attributable to a container nor to the host (the process exited, its cgroup unknown or gone) whose
     * kernel flags do not place the file in an image layer: each may have been drift and is lost for classification.
     */
    public long unattributedMayBeDrift() {
        return unattributedMayBeDrift.sum();
    }

    /** Counters: how execs were attributed. */
    public Map<String, Long> stats() {
        return Map.ofEntries(
                Map.entry("cgroup_id", attributedByCgroupId.sum()),
                Map.entry("proc", attributedByProc.sum()),
                Map.entry("mount_ns", attributedByMountNs.sum()),
                Map.entry("dev", attributedByDev.sum()),
                Map.entry("host", hostExecs.sum()),
                Map.entry("host_mount_ns", hostMountNsExecs.sum()),
                Map.entry("unattributed", unattributed.sum()),
                Map.entry("pid_not_read", notReadAtPid.sum()),
                Map.entry("containers", (long) containers.size()),
                Map.entry("roots_from_host_mounts", rootsFromHostMounts.sum()),
                Map.entry("rootfs_mount", attributedByRootfs.sum()),
                Map.entry("capture", attributedByCapture.sum()),
                Map.entry("filesystems_from_capture", filesystemsFromCapture.sum()));
    }

    private void forget(Tracked tracked) {
        ContainerId id = tracked.identity.id();
        containers.remove(id);
        byCgroupId.entrySet().removeIf(e -> {
            if (e.getValue().equals(id)) {
                if (cgroupIds != null) {
                    cgroupIds.forget(e.getKey());
                }
                return true;
            }
            return false;
        });
        byMountNs.values().removeIf(id::equals);
        byPrivateDev.values().forEach(owners -> owners.remove(id));
        byPrivateDev.values().removeIf(Set::isEmpty);
        LOG.debug("container {} forgotten", id);
        try {
            onForget.accept(tracked.context);
        } catch (RuntimeException e) {
            LOG.warn("onForget failed for container {}", id, e);
        }
    }

    private boolean cgroupExists(String cgroupPath) {
        if (cgroupIds != null) {
            return cgroupIds.exists(cgroupPath);
        }
        return cgroupMounts.livenessTree()
                .map(tree -> Files.isDirectory(tree.resolve(cgroupPath.substring(1))))
                .orElse(true);
    }

    private void maybeSweep() {
        if (clock.millis() - lastSweepMillis >= sweepInterval.toMillis()) {
            sweep();
        }
    }

    /** A capture found by the cgroup id itself (the registry's exact match), not by a namespace or device. */
    private static boolean capturedByCgroupId(CapturedContainer captured, long cgroupId) {
        return captured.cgroupId() == cgroupId;
    }

    private void rememberHostCgroup(long cgroupId) {
        if (hostCgroupIds.size() >= MAX_HOST_CGROUPS_REMEMBERED) {
            hostCgroupIds.clear();
        }
        hostCgroupIds.add(cgroupId);
    }

    private boolean isHostMountNs(long ns) {
        return hostMountNs != 0 && ns == hostMountNs;
    }

    private long mountNamespaceOf(int pid) {
        return mountNamespaceOf(Integer.toString(pid));
    }

    private long mountNamespaceOf(String process) {
        try {
            String link = Files.readSymbolicLink(procRoot.resolve(process + "/ns/mnt")).toString(); // "mnt:[4026531841]"
            int open = link.indexOf('[');
            return Long.parseLong(link.substring(open + 1, link.length() - 1));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static Optional<String> readSmall(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8));
        } catch (IOException gone) {
            return Optional.empty();
        }
    }

    /** One container as tracked: its identity, its current context, and the devices it owns. */
    private static final class Tracked {
        final CgroupIdentity identity;
        volatile ContainerContext context;
        volatile Set<Long> knownDevs = Set.of();
        volatile Set<Long> privateDevs = Set.of();
        volatile long readAtMillis = Long.MIN_VALUE / 2;
        volatile long goneSinceMillis = -1;
        volatile long mountNs;

        Tracked(CgroupIdentity identity) {
            this.identity = identity;
            this.context = new ContainerContext(identity.id(), identity.runtime(), identity.cgroupPath(),
                    identity.podUid(), null);
        }

        void update(ContainerFilesystems fs, long nowMillis) {
            Set<Long> known = new HashSet<>();
            Set<Long> owned = new HashSet<>();
            fs.root().ifPresent(root -> {
                known.add(root.mount().dev());
                owned.add(root.mount().dev());
            });
            for (ContainerMount mount : fs.mounts()) {
                known.add(mount.dev());
                boolean anonymous = DeviceNumber.major(mount.dev()) == 0; // major 0: a superblock of its own
                if (anonymous && !PSEUDO_FILESYSTEMS.contains(mount.fsType())) {
                    owned.add(mount.dev());
                }
            }
            knownDevs = Set.copyOf(known);
            privateDevs = Set.copyOf(owned);
            readAtMillis = nowMillis;
            context = new ContainerContext(identity.id(), identity.runtime(), identity.cgroupPath(), identity.podUid(),
                    fs);
        }
    }
}
