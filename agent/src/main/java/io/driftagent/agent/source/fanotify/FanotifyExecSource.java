package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.host.HostMountTable;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.SourceUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exec events from fanotify {@code FAN_OPEN_EXEC} (notification class, no blocking). Filesystem marks (mount marks
 * where the kernel refuses a filesystem mark) on the host root and on every container root / volume handed to
 * {@link #watch(Path)}. Every fact comes from the event fd (statx, fstatfs, readlink, first bytes) and, best effort,
 * from /proc/&lt;pid&gt;, so a process that already exited is still described by its file.
 *
 * <p>Blind spot: memfd execs raise no event; the kernel refuses marks on its internal shmem mount (EINVAL). A rescan
 * of /proc every few seconds finds the processes still running from a memfd; one that exits sooner is only seen by the
 * eBPF source. Exec'd file names are the resolved path (symlinks followed), not the string given to execve.
 *
 * <p>Containers started after the source: see {@link ContainerMountWatcher}.
 *
 * <p>On {@code FAN_Q_OVERFLOW} (the kernel queue of 16384 events filled) the overflow is counted as lost
 * "fanotify_overflow" (the kernel does not say how many events went) and /proc is rescanned: every process
 * started since the last batch read before the overflow is emitted with its current executable (see
 * {@link #rescanned()}).
 */
public final class FanotifyExecSource implements ExecSource {

    private static final Logger log = LoggerFactory.getLogger(FanotifyExecSource.class);
    private static final long JOIN_TIMEOUT_MS = 5000;
    private static final long RESCAN_SLACK_NS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final int MEMFD_RESCAN_SECONDS = 5;
    private static final int BACKLOG_MAX = 8192;
    private static final int BACKLOG_RETRY_MS = 5;
    private static final int O_DIRECTORY = 0x10000;

    private final FanotifySourceConfig config;
    private final Clock clock;
    private final Map<String, LongAdder> lost = new ConcurrentHashMap<>();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder rescanned = new LongAdder();
    private final LongAdder rawEvents = new LongAdder();
    private final LongAdder mountsMarked = new LongAdder();
    private final LongAdder mountMarksFailed = new LongAdder();
    private final LongAdder hostByMount = new LongAdder();
    /** Execs whose attribution had to set a fact aside, by reason (see {@link #doubtful()}). */
    private final Map<String, LongAdder> doubtful = new ConcurrentHashMap<>();
    private final MountOwners mountOwners = new MountOwners();
    private final Object lifecycle = new Object();

    private Native nat;
    private FanotifyGroup group;
    private OverlayLayers layers;
    private Thread reader;
    private volatile ExecEventSink sink;
    /** The host's mount namespace (inode), 0 when unknown: an exec seen in it is a host process's. */
    private volatile long hostMountNs;
    /** The device of the host's root filesystem (an overlay on some nodes: not a container's), 0 when unknown. */
    private volatile long hostRootDev;
    private final HostMountTable sharedMountTable;
    private ContainerMountWatcher mountWatcher;
    private volatile HostMountTable mountTable;
    private boolean ownsMountTable;
    private java.util.concurrent.ScheduledExecutorService memfdRescans;
    private volatile boolean running;
    private volatile boolean closed;

    public FanotifyExecSource(FanotifySourceConfig config, Clock clock) {
        this(config, clock, null);
    }

    /**
     * @param mountTable the watcher of the host's mount table to listen to (its creator starts and closes it); null:
     *                   the source watches the table itself
     */
    public FanotifyExecSource(FanotifySourceConfig config, Clock clock, HostMountTable mountTable) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sharedMountTable = mountTable;
    }

    @Override
    public void start(ExecEventSink sink) throws SourceUnavailableException {
        Objects.requireNonNull(sink, "sink");
        synchronized (lifecycle) {
            if (closed || group != null) {
                throw new IllegalStateException("source already started or closed");
            }
            try {
                nat = Native.load();
            } catch (RuntimeException | LinkageError e) {
                throw new SourceUnavailableException("cannot bind libc through jnr-ffi: " + e, e);
            }
            try {
                int initFlags = Native.FAN_CLASS_NOTIF | (config.unlimitedKernelQueue() ? 0x10 : 0);
                group = new FanotifyGroup(nat, initFlags, Native.FAN_OPEN_EXEC);
            } catch (IOException e) {
                throw new SourceUnavailableException(e.getMessage(), e);
            }
            layers = new OverlayLayers(config.procRoot(), clock, io.driftagent.agent.fs.NoFollowRootedFiles.create(),
                    new LayerDirBirths(nat), (mountId, dev) -> mountOwners.hostMount(mountId, dev)
                            || mountOwners.ownerOf(mountId) != null, System::nanoTime);
            layers.refresh();
            int hostProcess = -1;
            if (config.watchHostRoot()) {
                try {
                    group.mark(Path.of("/"));
                } catch (IOException e) {
                    group.close();
                    group = null;
                    throw new SourceUnavailableException("cannot mark the host root: " + e.getMessage(), e);
                }
                hostProcess = markTheNodesRoot(group);
            }
            Path cgroup2 = config.cgroup2Root() != null ? config.cgroup2Root() : CgroupMounts.unifiedAtHostRoot(config.procRoot()).orElse(null);
            running = true;
            this.sink = sink;
            ReaderLoop loop = new ReaderLoop(sink, new ProcessFactsReader(nat, config.procRoot(), cgroup2, 100),
                    hostProcess);
            reader = new Thread(loop, "fanotify-exec-reader");
            reader.setDaemon(true);
            reader.start();
            if (hostProcess > 0) {
                hostMountNs = mountNamespaceOf(hostProcess);
                hostRootDev = deviceOf(config.procRoot().resolve(hostProcess + "/root"));
                startMountWatcher(hostProcess, cgroup2);
            }
            log.info("fanotify exec source started (host root marked: {}, cgroup2 at {}, new mounts watched through"
                    + " pid {})", config.watchHostRoot(), cgroup2, hostProcess > 0 ? hostProcess : "none");
            log.info("fanotify: memfd execs (memfd_create + fexecve) raise no fanotify event; processes still running"
                    + " from a memfd are found by a rescan of /proc every {} s; one that exits sooner is not seen", MEMFD_RESCAN_SECONDS);
        }
    }

    /**
     * Marks the filesystem holding {@code mountPointOrDir} (e.g. {@code /proc/<pid>/root} of a container, or a
     * volume's mount point) for FAN_OPEN_EXEC; falls back to a mount mark where a filesystem mark is refused.
     */
    public MarkKind watch(Path mountPointOrDir) throws IOException {
        FanotifyGroup g = requireStarted();
        MarkKind kind = g.mark(mountPointOrDir);
        procPidOf(mountPointOrDir).ifPresent(layers::addNamespaceOf);
        layers.refresh();
        return kind;
    }

    /** Removes what {@link #watch(Path)} added for this path (the kernel mark goes with its last watched path). */
    public void unwatch(Path mountPointOrDir) {
        FanotifyGroup g = group;
        if (g == null) {
            return;
        }
        g.unmark(mountPointOrDir);
        procPidOf(mountPointOrDir).ifPresent(layers::removeNamespaceOf);
    }

    private long mountNamespaceOf(int pid) {
        try {
            String link = java.nio.file.Files.readSymbolicLink(config.procRoot().resolve(pid + "/ns/mnt")).toString();
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
        } catch (IOException | RuntimeException e) {
            return 0L;
        }
    }

    private static long deviceOf(Path path) {
        try {
            return ((Number) java.nio.file.Files.getAttribute(path, "unix:dev")).longValue();
        } catch (IOException | RuntimeException e) {
            return 0L;
        }
    }

    private void startMountWatcher(int hostProcess, Path cgroup2) {
        layers.addNamespaceOf(hostProcess); // the overlays of containers the runtime mounts in the host's namespace
        FanotifyGroup g = group;
        LayerDirBirths noticeBirths = new LayerDirBirths(nat);
        mountWatcher = new ContainerMountWatcher(nat, config.procRoot(), hostProcess, new ContainerMountWatcher.Marker() {
            @Override
            public MarkKind mark(Path path) throws IOException {
                return g.mark(path);
            }

            @Override
            public void unmark(Path path) {
                g.unmark(path);
            }
        }, layers::refresh, noticed -> layers.noticed(noticed, noticeBirths), mountOwners, new ProcessFactsReader(nat, config.procRoot(), cgroup2, 100), mountsMarked,
                mountMarksFailed);
        ProcessFactsReader facts = new ProcessFactsReader(nat, config.procRoot(), cgroup2, 100);
        ProcessRescanner memory = new ProcessRescanner(nat, config.procRoot(), facts, new ExecutedFileInspector(nat),
                layers, new ExecEventAssembler(layers));
        java.util.Set<String> reported = new java.util.HashSet<>();
        memfdRescans = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fanotify-memfd-rescan");
            t.setDaemon(true);
            return t;
        });
        memfdRescans.scheduleWithFixedDelay(() -> {
            try {
                int n = memory.runningFromMemory(reported, e -> {
                    rescanned.increment();
                    offerFromRescan(e);
                });
                if (n > 0) {
                    log.debug("fanotify: {} processes found running from a memfd", n);
                }
            } catch (RuntimeException e) {
                log.warn("fanotify: the memfd rescan failed: {}", e.toString(), e);
            }
        }, MEMFD_RESCAN_SECONDS, MEMFD_RESCAN_SECONDS, TimeUnit.SECONDS);
        Path hostMountInfo = config.procRoot().resolve(hostProcess + "/mountinfo");
        if (sharedMountTable != null && sharedMountTable.source().equals(hostMountInfo)) {
            mountTable = sharedMountTable;
        } else {
            if (sharedMountTable != null) {
                log.info("fanotify: the node's root is marked through pid {}, but the shared host mount table reads"
                        + " {}: watching {} too (a second watcher of the node's mount table and its notices)",
                        hostProcess, sharedMountTable.source(), hostMountInfo);
            }
            mountTable = new HostMountTable(hostMountInfo, config.procRoot().resolve(hostProcess + "/ns/mnt"),
                    config.procRoot().resolve("self/ns/mnt"), System::nanoTime);
            ownsMountTable = true;
        }
        // the mounts there now are marked before start() returns
        mountTable.addListener(mountWatcher);
        mountTable.start();
    }

    private void offerFromRescan(ExecEvent e) {
        ExecEventSink s = sink;
        if (s == null) {
            return;
        }
        try {
            if (s.offer(e)) {
                delivered.increment();
            } else {
                countLost("queue_full");
            }
        } catch (RuntimeException ex) {
            countLost("sink_error");
        }
    }

    /** Filesystems the mount watcher marked (new mounts of the host and of new containers). */
    public long mountsMarked() {
        return mountsMarked.sum();
    }

    /** Execs known to be the host's by the mount their file was opened through: no /proc read for them. */
    public long hostExecsByMount() {
        return hostByMount.sum();
    }

    /** Mounts the mount watcher could not mark: execs from them are not seen. */
    public long mountMarksFailed() {
        return mountMarksFailed.sum();
    }

    /** Currently watched paths and how each is marked. */
    public Map<Path, MarkKind> watched() {
        FanotifyGroup g = group;
        return g == null ? Map.of() : g.marks();
    }

    /**
     * Execs of files of deleted writable layers (a container removed before its exec was read) by outcome: placed in
     * their layer, ambiguous, unknown (see {@link OverlayLayers}).
     */
    public Map<String, Long> goneLayerPlacements() {
        OverlayLayers l = layers;
        return l == null ? Map.of() : l.goneLayerPlacements();
    }

    /**
     * The kernel's mount notices the host mount table's watcher reads (see {@code host.MountNotifications}):
     * described (mounts described at their attach), gone (attached mounts detached before their notice was read:
     * nothing known of them), dropped (notices lost), transient (mounts that came and went between two reads of the
     * table, known from the notices alone), unavailable (1 when the notices cannot be had: the table reads alone).
     */
    public Map<String, Long> mountNotices() {
        HostMountTable t = mountTable;
        java.util.Optional<Map<String, Long>> notices = t == null ? java.util.Optional.empty() : t.notices();
        Map<String, Long> out = new java.util.HashMap<>(notices.orElse(Map.of()));
        out.put("transient", t == null ? 0L : t.transients());
        out.put("unavailable", notices.isPresent() ? 0L : 1L);
        return out;
    }

    /** Execs whose overlay device served more than one container between their queueing and their read. */
    public long execsAmongReusedDevices() {
        return mountOwners.severalLivesFit();
    }

    /**
     * Execs whose placement set aside what contradicted their file, by reason: {@code pid_reused} (/proc at the
     * event's pid showed a process of the host's mount namespace, or of another container than the one whose mount
     * the file was opened through: the pid was given to another process before the event was read, so the exec is
     * placed by its file alone), {@code overlay_unseen} (an exec of a file on an overlay no read of the mount tables
     * had shown: whether it is the writable layer's cannot be told), {@code device_reused} (an exec whose process was
     * gone, on an overlay device that served more than one overlay while its event waited in the queue, that neither
     * its file's layer nor its time tells apart: it is not placed by the device, so never in a wrong container).
     */
    public Map<String, Long> doubtful() {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (String reason : DOUBTFUL_REASONS) {
            LongAdder n = doubtful.get(reason);
            out.put(reason, n == null ? 0L : n.sum());
        }
        Map<String, Long> fromLayers = layers == null ? Map.of() : layers.doubtful();
        fromLayers.forEach((k, v) -> out.merge(k, v, Long::sum));
        return out;
    }

    /** The reasons {@link #doubtful()} counts. */
    public static final List<String> DOUBTFUL_REASONS = List.of("pid_reused", "overlay_unseen", "device_reused");

    private void countDoubtful(String reason) {
        doubtful.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    /** Processes emitted by overflow rescans (also counted in delivered when the sink accepted them). */
    public long rescanned() {
        return rescanned.sum();
    }

    /** Raw FAN_OPEN_EXEC events read (one execve yields one to four). */
    public long rawEvents() {
        return rawEvents.sum();
    }

    @Override
    public SourceStats stats() {
        Map<String, Long> l = new java.util.HashMap<>();
        lost.forEach((k, v) -> l.put(k, v.sum()));
        return new SourceStats(delivered.sum(), l);
    }

    @Override
    public ExecEvent.SourceKind kind() {
        return ExecEvent.SourceKind.FANOTIFY;
    }

    @Override
    public void close() {
        Thread t;
        FanotifyGroup g;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            running = false;
            t = reader;
            g = group;
        }
        if (g == null) {
            return;
        }
        ContainerMountWatcher w = mountWatcher;
        if (w != null) {
            mountTable.removeListener(w);
            if (ownsMountTable) {
                mountTable.close();
            }
            memfdRescans.shutdownNow();
            try {
                memfdRescans.awaitTermination(JOIN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        g.wakeup();
        if (t != null) {
            try {
                t.join(JOIN_TIMEOUT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                log.error("fanotify reader did not stop within {} ms; closing its fd anyway", JOIN_TIMEOUT_MS);
            }
        }
        g.close();
        log.info("fanotify exec source closed: delivered {}, lost {}", delivered.sum(), stats().lost());
    }

    private FanotifyGroup requireStarted() throws IOException {
        FanotifyGroup g = group;
        if (g == null || closed) {
            throw new IOException("fanotify source is not running");
        }
        return g;
    }

    private void countLost(String reason) {
        lost.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    public static java.util.Optional<Integer> procPidOf(Path p) {
        // /proc/<pid>/root
        if (p.getNameCount() == 3 && p.getName(0).toString().equals("proc") && p.getName(2).toString().equals("root")) {
            try {
                return java.util.Optional.of(Integer.parseInt(p.getName(1).toString()));
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.empty();
    }

    /** Everything the reader thread owns. */
    private final class ReaderLoop implements Runnable {
        private final ExecEventSink sink;
        private final ProcessFactsReader procReader;
        private final ExecutedFileInspector inspector;
        private final HostPaths hostPaths;
        private final ExecEventAssembler assembler;
        private final ExecCorrelator correlator;
        private final ByteBuffer buf;
        private final long bootMinusMonotonicNs;
        private long lastBatchBootNs;
        /** Every event not read yet was queued after this (monotonic ns): the start of the last read that drained. */
        private long queuedAfterNs;
        /** Execs that may be drift, refused by a full pipeline queue, offered again before anything newer. */
        private final java.util.ArrayDeque<ExecEvent> backlog = new java.util.ArrayDeque<>();

        ReaderLoop(ExecEventSink sink, ProcessFactsReader procReader, int hostProcess) {
            this.hostPaths = new HostPaths(nat.libc, nat.libc.open(config.procRoot().resolve(
                    (hostProcess > 0 ? Integer.toString(hostProcess) : "self") + "/root").toString(),
                    Native.O_RDONLY | Native.O_CLOEXEC | O_DIRECTORY));
            this.sink = sink;
            this.procReader = procReader;
            this.inspector = new ExecutedFileInspector(nat);
            this.assembler = new ExecEventAssembler(layers);
            this.correlator = new ExecCorrelator(config.correlationWindow().toNanos(), this::emitOrCount,
                    this::locateInterpreter);
            this.buf = ByteBuffer.allocateDirect(config.readBufferBytes()).order(ByteOrder.nativeOrder());
            this.bootMinusMonotonicNs = ProcessRescanner.uptimeNs(config.procRoot()) - System.nanoTime();
            this.lastBatchBootNs = System.nanoTime() + bootMinusMonotonicNs;
            this.queuedAfterNs = System.nanoTime();
        }

        @Override
        public void run() {
            try {
                while (running) {
                    long now = System.nanoTime();
                    long waitNs = correlator.nanosUntilNextExpiry(now);
                    int timeoutMs = waitNs < 0 ? -1 : (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNs) + 1);
                    if (!backlog.isEmpty()) {
                        timeoutMs = timeoutMs < 0 ? BACKLOG_RETRY_MS : Math.min(timeoutMs, BACKLOG_RETRY_MS);
                    }
                    boolean overflowed = false;
                    long readStart = System.nanoTime();
                    if (group.awaitAndRead(buf, timeoutMs)) {
                        long batchBootNs = System.nanoTime() + bootMinusMonotonicNs;
                        overflowed = handleBatch();
                        noteDrained(readStart);
                        // drain whatever else is queued before looking at the clock again
                        for (int i = 0; i < 16 && running; i++) {
                            readStart = System.nanoTime();
                            if (!group.readAvailable(buf)) {
                                queuedAfterNs = readStart; // the queue was empty then
                                break;
                            }
                            overflowed |= handleBatch();
                            noteDrained(readStart);
                        }
                        if (overflowed) {
                            rescan(lastBatchBootNs - RESCAN_SLACK_NS);
                        }
                        lastBatchBootNs = batchBootNs;
                        coalesce();
                    } else {
                        queuedAfterNs = readStart; // the wait saw nothing queued
                    }
                    correlator.flushExpired(System.nanoTime(), queuedAfterNs);
                    offerBacklog();
                }
            } catch (IOException | RuntimeException e) {
                log.error("fanotify reader stopped: {}", e.toString(), e);
                countLost("reader_failed");
            } finally {
                correlator.flushAll();
                offerBacklog();
                for (int i = backlog.size(); i > 0; i--) {
                    countLost("queue_full");
                }
                backlog.clear();
                hostPaths.close();
            }
        }

        /**
         * After a read that began at {@code readStart}: when it left room in the buffer, it emptied the kernel's queue,
         * so every event read later was queued after {@code readStart}.
         */
        private void noteDrained(long readStart) {
            if (buf.limit() + 2 * Native.EVENT_METADATA_LEN <= buf.capacity()) {
                queuedAfterNs = readStart;
            }
        }

        /**
         * Lets events accumulate for a moment after a small batch: one wake-up per exec costs more CPU than the
         * events themselves when a node execs thousands of times a second. The kernel queue (16384) absorbs it.
         */
        private void coalesce() {
            long pauseNs = config.readCoalescing().toNanos();
            if (pauseNs > 0 && buf.limit() < buf.capacity() / 2 && running) {
                java.util.concurrent.locks.LockSupport.parkNanos(pauseNs);
            }
        }

        /** Handles every event in {@code buf}; closes every event fd. Returns true if the queue overflowed. */
        private boolean handleBatch() {
            boolean overflow = false;
            int off = 0;
            int limit = buf.limit();
            while (off + Native.EVENT_METADATA_LEN <= limit) {
                int eventLen = buf.getInt(off);
                int vers = buf.get(off + 4) & 0xff;
                long mask = buf.getLong(off + 8);
                int fd = buf.getInt(off + 16);
                int pid = buf.getInt(off + 20);
                if (eventLen < Native.EVENT_METADATA_LEN || off + eventLen > limit) {
                    log.error("malformed fanotify event (len {} at {} of {})", eventLen, off, limit);
                    countLost("malformed");
                    break;
                }
                try {
                    if (vers != Native.FANOTIFY_METADATA_VERSION) {
                        countLost("bad_version");
                    } else if ((mask & Native.FAN_Q_OVERFLOW) != 0) {
                        countLost("fanotify_overflow");
                        overflow = true;
                    } else if (fd >= 0) {
                        handleExecOpen(fd, pid);
                    }
                } catch (RuntimeException e) {
                    countLost("internal_error");
                    log.warn("fanotify event of pid {} failed: {}", pid, e.toString());
                } finally {
                    if (fd >= 0) {
                        group.closeEventFd(fd);
                    }
                }
                off += eventLen;
            }
            return overflow;
        }

        private void handleExecOpen(int fd, int pid) {
            rawEvents.increment();
            ExecutedFile file = inspector.inspect(fd, true);
            if (file == null) {
                countLost("fd_unreadable");
                return;
            }
            ExecCorrelator.Part part = new ExecCorrelator.Part(file, layers.resolve(file, () -> hostPaths.of(fd)));
            correlator.accept(pid, part, System.nanoTime(), queuedAfterNs, p -> factsOf(p, part));
        }

        /**
         * The process facts of a new exec. A file opened through a mount of the host's namespace was exec'd by a
         * process of the host's namespace (a container's processes see their own copies of every mount, with their
         * own ids): a host exec, whatever /proc shows of that pid by now (runc's init is exec'd on the host and is in
         * the container a moment later), and nothing needs to be read; so is a file exec'd through a detached mount of
         * itself. Else /proc.
         */
        private ProcessFacts factsOf(int pid, ExecCorrelator.Part part) {
            ExecutedFile file = part.file();
            long hostNs = hostMountNs;
            if (hostNs != 0L && (mountOwners.hostMount(file.mountId(), file.dev()) || detachedFileMount(file))) {
                hostByMount.increment();
                return new ProcessFacts(pid, 0, -1, -1, 0L, "", 0L, hostNs);
            }
            // checked against its file and completed by the mounts' owners when emitted (all its opens known then)
            return procReader.read(pid);
        }

        /**
         * The group's facts from /proc, or unknown ones when they cannot be its process's (see {@link #reusedPid}):
         * counted and logged, the exec is then placed by its file.
         */
        private ProcessFacts checked(ExecCorrelator.Group g) {
            long hostNs = hostMountNs;
            ProcessFacts facts = g.process;
            if (hostNs != 0L && facts.known() && facts.mountNsId() != 0L && facts.mountNsId() != hostNs) {
                return checkedAgainstTheRoot(g, facts);
            }
            if (hostNs == 0L || facts.mountNsId() != hostNs) {
                return facts;
            }
            ExecCorrelator.Part onOverlay = null;
            for (List<ExecCorrelator.Part> parts : List.of(g.primary, g.interpreter)) {
                for (ExecCorrelator.Part part : parts) {
                    if (mountOwners.hostMount(part.file().mountId(), part.file().dev())) {
                        return facts; // opened through a mount of the host's namespace: a host process may have
                    }
                    if (onOverlay == null && reusedPid(facts, part, hostNs) != null) {
                        onOverlay = part;
                    }
                }
            }
            if (onOverlay == null) {
                return facts;
            }
            ExecutedFile file = onOverlay.file();
            countDoubtful("pid_reused");
            log.info("fanotify: the exec of {} (dev {}, ino {}, mount {}) by pid {} was read after that pid went to"
                    + " another process ({}): /proc is set aside, the exec is placed by its file"
                    + " (drift.fanotify.doubtful{{reason=\"pid_reused\"}})", file.path(), file.dev(), file.ino(),
                    file.mountId(), g.pid, reusedPid(facts, onOverlay, hostNs));
            return ProcessFacts.unknown(g.pid);
        }

        /**
         * The facts of a container's process /proc showed at the group's pid, or unknown ones when that process cannot
         * be the one that exec'd the file: a file that may be drift (a writable layer's, or deleted) on a container's
         * overlay that is not the root of the process now at that pid. A process runs the files of its own root; the
         * pid was freed and given to another container's process before the event was read (pids wrap within a minute
         * under a storm of execs), and that container must not be named for the exec. Counted and logged as
         * {@code pid_reused}; the exec is then placed by its file. Only execs that may be drift pay the stat.
         */
        private ProcessFacts checkedAgainstTheRoot(ExecCorrelator.Group g, ProcessFacts facts) {
            for (ExecCorrelator.Part part : g.primary) {
                ExecutedFile file = part.file();
                boolean mayBeDrift = part.layer().upperLayer() || file.deleted() || file.nlink() == 0;
                long overlayDev = file.onOverlay() ? file.dev() : part.layer().overlay() ? part.layer().overlayDev() : 0L;
                if (!mayBeDrift || overlayDev == 0L || overlayDev == hostRootDev) {
                    continue;
                }
                long rootDev = deviceOf(config.procRoot().resolve(g.pid + "/root"));
                if (rootDev == 0L || rootDev == overlayDev) {
                    return facts; // gone since (nothing to tell), or its own root's file
                }
                countDoubtful("pid_reused");
                log.info("fanotify: the exec of {} (overlay dev {}, ino {}, mount {}) by pid {} was read after that pid"
                        + " went to a process of another container (cgroup {}, root dev {}, comm {}): /proc is set"
                        + " aside, the exec is placed by its file (drift.fanotify.doubtful{{reason=\"pid_reused\"}})",
                        file.path(), overlayDev, file.ino(), file.mountId(), g.pid, facts.cgroupId(), rootDev,
                        facts.comm());
                return ProcessFacts.unknown(g.pid);
            }
            return facts;
        }

        /**
         * Why the process /proc shows at the exec's pid cannot be the one that exec'd {@code part} (fanotify events
         * carry a pid only; pids are reused once freed, within a minute on a node that execs thousands of times a
         * second), or null when it may be. A file of a container's overlay (not the host's root), not opened through
         * a mount of the host's namespace (checked before: a host process's path walk only crosses its own
         * namespace's mounts), was not exec'd by a process of the host's namespace; nor was a file opened through a
         * mount of a container's namespace (its tmpfs, a volume: {@link MountOwners}). (Another container's process at
         * that pid is told apart by its root, not its mounts' ids: see {@link #checkedAgainstTheRoot}.)
         */
        private String reusedPid(ProcessFacts facts, ExecCorrelator.Part part, long hostNs) {
            if (!facts.known() || facts.mountNsId() == 0L || facts.mountNsId() != hostNs) {
                return null;
            }
            ExecutedFile file = part.file();
            long overlayDev = file.onOverlay() ? file.dev() : part.layer().overlay() ? part.layer().overlayDev() : 0L;
            if (overlayDev != 0L && overlayDev != hostRootDev
                    || overlayDev == 0L && mountOwners.containerMount(file.mountId())) {
                // a file of a container's overlay, or opened through a mount of a container's namespace (its tmpfs,
                // a volume: the queued event holds that mount, so its id is not another's yet)
                return "a process of the host's mount namespace, comm " + facts.comm() + ", started "
                        + facts.startTimeNs() + " ns after boot";
            }
            return null;
        }

        /**
         * A script's #! path or an ELF's PT_INTERP resolved inside the process's root; through the overlay's host
         * mount once the process is gone.
         */
        private long[] locateInterpreter(int pid, ExecCorrelator.Part file) {
            String path = file.file().interpreterPath();
            if (!path.startsWith("/")) {
                return null;
            }
            long[] found = RootedPathResolver.regularFile(config.procRoot().resolve(pid + "/root"), path);
            if (found == null && file.layer().overlay()) {
                String mp = layers.hostMountPoint(file.layer().overlayDev());
                if (mp != null) {
                    found = RootedPathResolver.regularFile(Path.of(mp), path);
                }
            } else if (found == null && isTheSameFileInOurRoot(file.file())) {
                // the process is gone; its file is where our namespace sees it, so was (very likely) its root
                found = RootedPathResolver.regularFile(Path.of("/"), path);
            }
            return found;
        }

        private boolean isTheSameFileInOurRoot(ExecutedFile f) {
            try {
                Map<String, Object> a = java.nio.file.Files.readAttributes(Path.of(f.path()), "unix:dev,ino");
                return ((Number) a.get("dev")).longValue() == f.dev() && ((Number) a.get("ino")).longValue() == f.ino();
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        /**
         * An exec whose handling failed is counted ({@code internal_error}) and the reader goes on: thrown out of the
         * correlator, it stopped the reader thread, and every later exec was lost under one count.
         */
        private void emitOrCount(ExecCorrelator.Group g) {
            try {
                emit(g);
            } catch (RuntimeException e) {
                countLost("internal_error");
                log.warn("fanotify: the exec of pid {} could not be handled, counted lost: {}", g.pid, e.toString(), e);
            }
        }

        private void emit(ExecCorrelator.Group g) {
            // after a script's exec the process image is the interpreter
            ExecCorrelator.Part image = g.interpreter.isEmpty() ? g.primary.get(0) : g.interpreter.get(0);
            String comm = g.process.known()
                    ? procReader.commIfStillRunning(g.pid, g.process.startTimeNs(), image.file().ino()) : null;
            long overlayDev = overlayDevOf(g.primary);
            long placedAt = placedExecTime(g.primary);
            MountOwners.Timing timing = placedAt != 0L || overlayDev == 0L ? null
                    : mountOwners.timing(overlayDev, g.queuedAfterNanos, g.firstSeenNanos, upperFileBorn(g.primary),
                            throughTheOverlay(g.primary, overlayDev));
            long at = placedAt != 0L ? placedAt : timing != null ? timing.nanos() : g.firstSeenNanos;
            ProcessFacts facts = checked(g);
            boolean ownerDoubtful = timing != null && timing.ambiguous() && !placed(facts);
            if (ownerDoubtful) {
                // the device served several overlays while the event waited, and neither /proc nor the file's layer
                // told which held the file: no container is named by the device (counted, not guessed)
                countDoubtful("device_reused");
                log.info("fanotify: the exec of {} (dev {}, ino {}, pid {}) fits {} lives of its overlay's device and"
                        + " its process was gone: its container is not told by the device"
                        + " (drift.fanotify.doubtful{{reason=\"device_reused\"}})", g.primary.get(0).file().path(),
                        overlayDev, g.primary.get(0).file().ino(), g.pid, timing.livesThatFit());
            } else {
                facts = completed(g, facts, at);
            }
            ExecEvent e = assembler.assemble(g.pid, facts, g.primary, g.interpreter, g.mergedInterpreter, comm, at,
                    ownerDoubtful);
            if (log.isDebugEnabled() && (e.flags().overlay() || e.flags().unlinked())) {
                log.debug("fanotify exec pid {} {} dev {} ino {} overlay {} upper {} unlinked {}: cgroup {} mount ns {},"
                        + " process {}, at {} ms before its read (placed by creation time: {}), queued after {} ms"
                        + " before", g.pid, e.filename(), e.file().dev(), e.file().ino(), e.flags().overlay(),
                        e.flags().upperLayer(), e.flags().unlinked(), e.cgroupId(), e.mountNsId(),
                        g.process.known() ? "read" : "gone", (g.firstSeenNanos - at) / 1_000_000L, placedAt != 0L,
                        (g.firstSeenNanos - g.queuedAfterNanos) / 1_000_000L);
            }
            offer(e);
        }

        /**
         * A regular file whose path is "/" is the root of a bind mount of that very file that was detached after it
         * was opened: runc 1.1 execs itself that way (a read-only bind of its binary, opened, then unmounted), on
         * the host, and its process is in the container's cgroup a moment later. Making such a mount takes
         * CAP_SYS_ADMIN, which a container holding it can use on the host anyway (docs/security.md).
         */
        private boolean detachedFileMount(ExecutedFile file) {
            return "/".equals(file.path()) && !file.onOverlay();
        }

        /**
         * When the writable-layer file exec'd was created, on CLOCK_MONOTONIC ({@code Long.MIN_VALUE}: not a
         * writable-layer file, or not known): its exec was in the life of the container that created it.
         */
        private long upperFileBorn(List<ExecCorrelator.Part> parts) {
            for (ExecCorrelator.Part part : parts) {
                long born = part.file().birthNanos();
                if (part.layer().upperLayer() && born != ExecutedFile.UNKNOWN) {
                    long epochMinusMonotonic = clock.millis() * 1_000_000L - System.nanoTime();
                    return born - epochMinusMonotonic - 1_000_000L; // the wall clock's millisecond
                }
            }
            return Long.MIN_VALUE;
        }

        /** The time inside the life of the gone overlay a file was placed in by its creation time, 0 when none. */
        private long placedExecTime(List<ExecCorrelator.Part> parts) {
            for (ExecCorrelator.Part part : parts) {
                if (part.layer().execTimeNanos() != 0L) {
                    return part.layer().execTimeNanos();
                }
            }
            return 0L;
        }

        /** Whether one of the opens was reported as the overlay's own inode on {@code overlayDev}. */
        private boolean throughTheOverlay(List<ExecCorrelator.Part> parts, long overlayDev) {
            for (ExecCorrelator.Part part : parts) {
                if (part.file().onOverlay() && part.file().dev() == overlayDev) {
                    return true;
                }
            }
            return false;
        }

        /** The device of the overlay the exec'd file is on (as the event will name it), 0 when none. */
        private long overlayDevOf(List<ExecCorrelator.Part> parts) {
            for (ExecCorrelator.Part part : parts) {
                if (part.file().onOverlay()) {
                    return part.file().dev();
                }
            }
            for (ExecCorrelator.Part part : parts) {
                if (part.layer().overlay()) {
                    return part.layer().overlayDev();
                }
            }
            return 0L;
        }

        /**
         * The group's process facts; for a process gone before its first event was read, its container's cgroup and
         * mount namespace by any of its opens' mounts (the twin report's mount is the container's) or container root.
         */
        private ProcessFacts completed(ExecCorrelator.Group g, ProcessFacts checkedFacts, long at) {
            ProcessFacts facts = checkedFacts;
            for (List<ExecCorrelator.Part> parts : List.of(g.primary, g.interpreter)) {
                for (ExecCorrelator.Part part : parts) {
                    facts = mountOwners.completed(g.pid, facts, part.file().mountId(), at);
                    facts = mountOwners.completedByRoot(g.pid, facts, part.layer().overlay()
                            ? part.layer().overlayDev() : 0L, at);
                }
            }
            return facts;
        }

        /** Whether /proc placed the process: its cgroup or its mount namespace was read (and not set aside). */
        private boolean placed(ProcessFacts facts) {
            return facts.cgroupId() != 0L || facts.mountNsId() != 0L;
        }

        /**
         * Hands {@code e} on. When the pipeline's queue is full, an exec that may be drift waits in a bounded backlog
         * (in order, offered again before anything newer); one the kernel's facts say cannot be (an image-layer file,
         * a process of the host's mount namespace) is dropped and counted at once, so a flood of those never costs a
         * drift exec its place.
         */
        private void offer(ExecEvent e) {
            boolean mayBeDrift = mayBeDrift(e);
            if (!backlog.isEmpty()) {
                offerBacklog();
                if (!backlog.isEmpty()) {
                    defer(e, mayBeDrift);
                    return;
                }
            }
            Boolean accepted = tryOffer(e);
            if (accepted == null) {
                return;
            }
            if (accepted) {
                delivered.increment();
            } else {
                defer(e, mayBeDrift);
            }
        }

        private void defer(ExecEvent e, boolean mayBeDrift) {
            if (mayBeDrift && backlog.size() < BACKLOG_MAX) {
                backlog.addLast(e);
            } else {
                countLost("queue_full");
            }
        }

        private void offerBacklog() {
            while (!backlog.isEmpty()) {
                Boolean accepted = tryOffer(backlog.peekFirst());
                if (accepted != null && !accepted) {
                    return;
                }
                backlog.pollFirst();
                if (accepted != null) {
                    delivered.increment();
                }
            }
        }

        /** true accepted, false queue full, null the sink threw (counted). */
        private Boolean tryOffer(ExecEvent e) {
            try {
                return sink.offer(e);
            } catch (RuntimeException ex) {
                log.warn("exec sink threw: {}", ex.toString());
                countLost("sink_error");
                return null;
            }
        }

        private boolean mayBeDrift(ExecEvent e) {
            ExecEvent.Flags f = e.flags();
            boolean imageLayer = f.overlay() && !f.upperLayer() && !f.memfd() && !f.unlinked();
            boolean host = hostMountNs != 0L && e.mountNsId() == hostMountNs;
            return !imageLayer && !host;
        }

        private void rescan(long sinceBootNs) {
            int n = new ProcessRescanner(nat, config.procRoot(), procReader, inspector, layers, assembler)
                    .startedSince(sinceBootNs, e -> {
                        rescanned.increment();
                        offer(e);
                    });
            log.warn("fanotify queue overflowed; rescanned /proc: {} processes started since the last read", n);
        }
    }

    /**
     * In a pod the agent's own root is the pod's filesystem: the node's root filesystem (where the runtime keeps the
     * containers' layers) is reached through the root of a host process instead: the one the shared host mount table
     * follows ({@code HostMountTable.hostProcess}), else the host's init or, where its links are not readable,
     * kthreadd. On the host this is the filesystem {@code /} already marked (the same mark).
     */
    private int markTheNodesRoot(FanotifyGroup g) {
        // the shared table's host process first: marked through it, the source listens to that table
        java.util.LinkedHashSet<String> candidates = new java.util.LinkedHashSet<>();
        if (sharedMountTable != null) {
            sharedMountTable.hostPid().ifPresent(candidates::add);
        }
        candidates.addAll(List.of("1", "2"));
        for (String hostProcess : candidates) {
            Path root = config.procRoot().resolve(hostProcess).resolve("root");
            try {
                MarkKind kind = g.mark(root);
                log.info("fanotify: the node's root filesystem marked through {} ({})", root, kind);
                return Integer.parseInt(hostProcess);
            } catch (IOException e) {
                log.debug("fanotify: cannot mark the node's root through {}: {}", root, e.getMessage());
            }
        }
        log.warn("fanotify: cannot mark the node's root filesystem through {}/1/root or {}/2/root: in a pod, execs"
                + " of containers started before their overlay is watched are not seen", config.procRoot(),
                config.procRoot());
        return -1;
    }
}
