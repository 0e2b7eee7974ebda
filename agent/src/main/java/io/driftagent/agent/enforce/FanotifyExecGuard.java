package io.driftagent.agent.enforce;

import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.SourceUnavailableException;
import io.driftagent.agent.source.fanotify.ExecCorrelator;
import io.driftagent.agent.source.fanotify.ExecEventAssembler;
import io.driftagent.agent.source.fanotify.ExecutedFile;
import io.driftagent.agent.source.fanotify.ExecutedFileInspector;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifyGroup;
import io.driftagent.agent.source.fanotify.MarkKind;
import io.driftagent.agent.source.fanotify.Native;
import io.driftagent.agent.source.fanotify.OverlayLayers;
import io.driftagent.agent.source.fanotify.ProcessFactsReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous exec blocking with fanotify {@code FAN_OPEN_EXEC_PERM} (class FAN_CLASS_CONTENT; kernel &gt;= 5.0, no
 * BPF LSM needed), on only the filesystems / mounts given to {@link #guard(Path)} (the containers under a
 * {@code block} rule).
 *
 * <p>Every permission event is answered exactly once, within {@code decisionTimeout}: the reading threads read,
 * take the file's facts from the event fd and the process's placement (cgroup, mount namespace) from /proc, and find
 * the exec's lane ({@link ExecPermissionDecider#laneOf}, a container). When the file's overlay has had its execs
 * placed before ({@link OverlayPlacements}), an exec the decider allows at once is answered from the fd's facts alone
 * and its process read from /proc only after the answer (a denial, and anything not decided at once, waits for the
 * read: nothing is denied or queued on that guess). When the lane is idle and the decider can
 * decide at once ({@link ExecPermissionDecider#decideAtOnce}: nothing slow needed), the reading thread answers
 * itself, else the exec is queued in its lane: the {@link ExecPermissionDecider} runs on a bounded pool of
 * {@link DecisionLanes}, one exec of a lane at a time, so a container whose decisions are slow only delays itself.
 * The rest of /proc is read only for a report ({@link ExecPermissionRequest#reportedEvent}); a ticking thread answers at the deadline with
 * the answer for a late decision (what the decider set, {@link PendingExec#answerOnTimeout}: the deciding rule's
 * {@code onTimeout}; else the configured default); a throw, a null, a full lane, an unreadable fd all answer the
 * default; every such answer is counted and logged with its reason. A decision that finishes after its deadline is
 * still finished (so a denial is reported with its facts) and counted. {@link #close()} removes the marks, answers
 * everything still queued or pending with the default, then closes the group (the kernel would allow whatever is
 * left at that point).
 *
 * <p>An {@link PermissionDecision#ALLOW_UNTIL_MODIFIED} answer for an image file is remembered in the kernel
 * ({@link RememberedAllowances}): that file's next execs raise no permission event until it is modified. This is
 * what makes blocking affordable: the permission round trip itself (kernel queue, two context switches) costs a
 * tiny exec ~60 µs on a small VM, whatever the decider does.
 *
 * <p>Safety: a path on the agent's own root filesystem is only ever mount-marked, and the root mount itself is
 * refused, so a bug here cannot put the whole host under permission events.
 */
public final class FanotifyExecGuard implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FanotifyExecGuard.class);
    private static final long JOIN_TIMEOUT_MS = 5000;
    /** A decision still running this many decision timeouts after its deadline is interrupted. */
    private static final int ABANDON_AFTER_TIMEOUTS = 20;
    /** struct fanotify_response scratch space, one per answering thread (the answer path is per exec). */
    private static final ThreadLocal<ByteBuffer> RESPONSE_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()));

    private final GuardConfig config;
    /** Given at {@link #start}: who decides is known only once the agent is assembled (it reports to the pipeline). */
    private ExecPermissionDecider decider;
    private final Clock clock;
    private final LongAdder received = new LongAdder();
    private final LongAdder allowed = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder answerFailed = new LongAdder();
    private final Map<String, LongAdder> defaulted = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> defaultedDenied = new ConcurrentHashMap<>();
    private final LongAdder lateDecisions = new LongAdder();
    private final LongAdder overruled = new LongAdder();
    private final LongAdder skipped = new LongAdder();
    private final LongAdder decided = new LongAdder();
    private final LongAdder detailsMissing = new LongAdder();
    private final LongAdder atOnce = new LongAdder();
    private final LongAdder prepareNanos = new LongAdder();
    private final LongAdder laneWaitNanos = new LongAdder();
    private final LongAdder decideNanos = new LongAdder();
    private final LongAdder decidedBeforePlacement = new LongAdder();
    private final LongAdder placementMismatched = new LongAdder();
    private final LongAdder placementUnverified = new LongAdder();
    /** Where the execs of each guarded overlay come from, learned from /proc: decided before reading it again. */
    private final OverlayPlacements placements = new OverlayPlacements();
    private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
    /** Answers hold the read lock; closing the group fd takes the write lock, so no answer hits a reused fd number. */
    private final ReentrantReadWriteLock groupLock = new ReentrantReadWriteLock();
    private final Object lifecycle = new Object();

    private Native nat;
    private FanotifyGroup group;
    private OverlayLayers layers;
    private RememberedAllowances allowances;
    private final List<Thread> workers = new java.util.ArrayList<>();
    /** Reading threads inside the quick first step of an exec (facts, lane): the rescue read watches them. */
    private final java.util.Map<Thread, Pending> preparing = new ConcurrentHashMap<>();
    /** Decision threads inside a decider: one past its deadline by far is interrupted. */
    private final java.util.Map<Thread, Pending> deciding = new ConcurrentHashMap<>();
    private DecisionLanes lanes;
    private Thread deadlines;
    private ThreadLocal<WorkerTools> tools;
    private long hostRootDev;
    private long hostRootMountId;
    private volatile boolean running;
    private volatile boolean groupOpen;
    private volatile boolean deadlineThreadIdle;
    private boolean closed;

    /** A guard with no permission group yet: {@link #start} opens it. */
    public FanotifyExecGuard(GuardConfig config, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    private record WorkerTools(ExecutedFileInspector inspector, ProcessFactsReader proc, ExecEventAssembler assembler) {}

    /**
     * Opens the permission group and starts answering its events with {@code decider}'s decisions (no marks yet:
     * {@link #guard}).
     */
    public void start(ExecPermissionDecider decider) throws SourceUnavailableException {
        Objects.requireNonNull(decider, "decider");
        synchronized (lifecycle) {
            if (closed || group != null) {
                throw new IllegalStateException("guard already started or closed");
            }
            this.decider = decider;
            try {
                nat = Native.load();
                group = new FanotifyGroup(nat, Native.FAN_CLASS_CONTENT, Native.FAN_OPEN_EXEC_PERM);
                long[] root = group.devAndMountId("/");
                hostRootDev = root[0];
                hostRootMountId = root[1];
            } catch (IOException e) {
                if (group != null) {
                    group.close();
                    group = null;
                }
                throw new SourceUnavailableException(e.getMessage(), e);
            } catch (RuntimeException | LinkageError e) {
                throw new SourceUnavailableException("cannot bind libc through jnr-ffi: " + e, e);
            }
            groupOpen = true;
            layers = new OverlayLayers(config.procRoot(), clock);
            layers.refresh();
            allowances = new RememberedAllowances(group, layers);
            Path cgroup2 = CgroupMounts.unifiedAtHostRoot(config.procRoot()).orElse(null);
            tools = ThreadLocal.withInitial(() -> new WorkerTools(new ExecutedFileInspector(nat),
                    new ProcessFactsReader(nat, config.procRoot(), cgroup2, 100), new ExecEventAssembler(layers)));
            running = true;
            lanes = new DecisionLanes(config.deciderThreads(), config.laneCapacity(), 4096, "fanotify-guard-decider");
            for (int i = 1; i <= config.workers(); i++) {
                Thread t = daemon(this::workerLoop, "fanotify-guard-worker-" + i);
                workers.add(t);
            }
            workers.forEach(Thread::start);
            deadlines = daemon(this::deadlineLoop, "fanotify-guard-deadline");
            deadlines.start();
            log.info("fanotify exec guard started (timeout {}, default {})", config.decisionTimeout(), config.defaultDecision());
        }
    }

    /** Puts the filesystem of {@code mountPointOrDir} (or only its mount, on the host root filesystem) under permission events. */
    public MarkKind guard(Path mountPointOrDir) throws IOException {
        FanotifyGroup g = group;
        if (g == null || !running) {
            throw new IOException("guard is not running");
        }
        long[] devAndMount = g.devAndMountId(mountPointOrDir.toString());
        if (devAndMount[1] == hostRootMountId) {
            throw new IOException("refusing to guard " + mountPointOrDir + ": it is on the host root mount itself");
        }
        MarkKind kind = g.mark(mountPointOrDir, devAndMount[0] != hostRootDev);
        FanotifyExecSource.procPidOf(mountPointOrDir).ifPresent(layers::addNamespaceOf);
        layers.refresh();
        return kind;
    }

    /** Whether the guard has started and is answering permission events. */
    public boolean isRunning() {
        return running;
    }

    public void unguard(Path mountPointOrDir) {
        FanotifyGroup g = group;
        if (g != null) {
            g.unmark(mountPointOrDir);
        }
    }

    public Map<Path, MarkKind> guarded() {
        FanotifyGroup g = group;
        return g == null ? Map.of() : g.marks();
    }

    public GuardStats stats() {
        Map<String, Long> d = new java.util.HashMap<>();
        defaulted.forEach((k, v) -> d.put(k, v.sum()));
        RememberedAllowances a = allowances;
        Map<String, Long> dd = new java.util.HashMap<>();
        defaultedDenied.forEach((k, v) -> dd.put(k, v.sum()));
        return new GuardStats(received.sum(), allowed.sum(), denied.sum(), d, dd, answerFailed.sum(),
                a == null ? 0 : a.remembered(), a == null ? Map.of() : a.notRemembered(), lateDecisions.sum(),
                overruled.sum(), skipped.sum(), detailsMissing.sum(), new GuardStats.AnswerTimes(decided.sum(),
                atOnce.sum(), prepareNanos.sum(), laneWaitNanos.sum(), decideNanos.sum()),
                new GuardStats.Placements(decidedBeforePlacement.sum(), placementMismatched.sum(),
                        placementUnverified.sum()));
    }

    /**
     * Forgets every remembered allowance (see {@link PermissionDecision#ALLOW_UNTIL_MODIFIED}): each such file is
     * asked about again at its next exec.
     */
    public void forgetRememberedAllowances() {
        groupLock.readLock().lock();
        try {
            if (groupOpen && allowances != null) {
                allowances.forgetAll();
            }
        } finally {
            groupLock.readLock().unlock();
        }
    }

    /** Permission events read but not answered yet (for tests and metrics). */
    public int pendingCount() {
        return pending.size();
    }

    /**
     * Every worker reads a few events, takes each one's facts from its fd and hands it to its lane; the decisions run
     * on the lanes' threads, so a slow decision never stops the reading.
     */
    private void workerLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect(config.eventsPerRead() * Native.EVENT_METADATA_LEN)
                .order(ByteOrder.nativeOrder());
        ByteBuffer fds = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        try {
            while (running) {
                Thread.interrupted();
                if (group.awaitAndRead(buf, fds, -1, false)) {
                    decideBatch(enqueue(buf, "shutdown"));
                }
            }
        } catch (IOException | RuntimeException e) {
            log.error("fanotify guard worker failed, releasing every guarded exec: {}", e.toString(), e);
            failOpen();
        }
    }

    private void decideBatch(List<Pending> batch) {
        for (Pending p : batch) {
            if (p.done.get()) {
                continue;
            }
            preparing.put(Thread.currentThread(), p);
            try {
                prepareAndQueue(p);
            } finally {
                preparing.remove(Thread.currentThread());
                Thread.interrupted();
            }
        }
    }

    /**
     * The first, quick step on the reading thread: the file's facts from the fd; when the file's overlay has a learned
     * placement ({@link OverlayPlacements}), the decision at once from those facts alone, the process read after the
     * answer ({@link #decidedBeforePlacement}); else the process's placement from /proc, the exec's lane, and the
     * decision at once or in the lane.
     */
    private void prepareAndQueue(Pending p) {
        ExecPermissionRequest request;
        Object lane;
        try {
            WorkerTools t = tools.get();
            ExecutedFile f = t.inspector().inspect(p.fd, true);
            if (f == null) {
                p.answerDefault("fd_unreadable");
                return;
            }
            p.file = f;
            List<ExecCorrelator.Part> parts = List.of(new ExecCorrelator.Part(f, layers.resolve(f)));
            Object overlay = layers.overlayIdentity(f.dev());
            OverlayPlacements.Placement known = placements.known(f.dev(), overlay);
            if (known != null && decidedBeforePlacement(p, t, parts, known)) {
                return;
            }
            // the process's placement only (its container); the rest of /proc only for a report
            ExecEvent event = t.assembler().assemble(p.pid, t.proc().readPlacement(p.pid), parts, List.of(), null,
                    p.readAtNanos);
            placements.learn(f.dev(), overlay, event.cgroupId(), event.mountNsId());
            request = new ExecPermissionRequest(event, f.format() == ExecutedFile.Format.SCRIPT, p,
                    decided -> withProcessDetails(decided, parts));
            lane = decider.laneOf(request);
        } catch (Throwable e) {
            failed(p, e);
            return;
        }
        p.lane = lane;
        p.request = request;
        p.queuedAtNanos = System.nanoTime();
        if (lanes.depth(lane) == 0 && decidedAtOnce(p, request)) {
            return;
        }
        if (!lanes.submit(lane, () -> decideInLane(p, request))) {
            p.answerDefault("overloaded");
            undecided(p);
        }
    }

    /**
     * Decides from the descriptor's facts alone: the file's overlay gives the placement its execs came from (learned
     * from /proc), so no /proc read waits before the answer. Only an allowing decision made at once in an idle lane
     * is answered so; a denial is withheld ({@link Withholding}) and everything else (nothing at once, a busy lane)
     * goes the way of every exec, its placement read first: so no exec is denied, reported or queued on a guess.
     * After the answer, the process's placement is read and compared: a different one (a process from outside the
     * container) is counted, logged, and makes the overlay contested (placed from /proc first from then on).
     *
     * @return whether the exec was answered here
     */
    private boolean decidedBeforePlacement(Pending p, WorkerTools t, List<ExecCorrelator.Part> parts,
                                           OverlayPlacements.Placement known) throws Exception {
        ExecEvent guess = t.assembler().assemble(p.pid, t.proc().knownPlacement(p.pid, known.cgroupId(),
                known.mountNsId()), parts, List.of(), null, p.readAtNanos);
        Withholding withholding = new Withholding(p);
        ExecPermissionRequest request = new ExecPermissionRequest(guess, p.file.format() == ExecutedFile.Format.SCRIPT,
                withholding, decided -> withProcessDetails(decided, parts));
        Object lane = decider.laneOf(request);
        if (lanes.depth(lane) != 0 || p.done.get()) {
            return false;
        }
        p.queuedAtNanos = System.nanoTime();
        p.decideAtNanos = p.queuedAtNanos;
        Optional<PermissionDecision> d = decider.decideAtOnce(request);
        if (d == null || d.isEmpty() || !d.get().allows() || withholding.withheld) {
            p.decideAtNanos = 0;
            return false;
        }
        p.lane = lane;
        p.request = request;
        atOnce.increment();
        decidedBeforePlacement.increment();
        answerDecided(p, d.get());
        // answered: now the process, to check the guess and to keep learning
        ExecEvent read = t.assembler().assemble(p.pid, t.proc().readPlacement(p.pid), parts, List.of(), null,
                p.readAtNanos);
        if (read.cgroupId() == 0 || read.mountNsId() == 0) {
            placementUnverified.increment();
            return true;
        }
        placements.learn(guess.file().dev(), known.overlay(), read.cgroupId(), read.mountNsId());
        if (read.cgroupId() != known.cgroupId() || read.mountNsId() != known.mountNsId()) {
            placementMismatched.increment();
            log.warn("exec of {} by pid {} was allowed from its file's overlay, whose execs came from cgroup {} and mount "
                            + "namespace {}, but the process is in cgroup {} and mount namespace {} (from outside the "
                            + "container?): that overlay's execs are placed from /proc before their answer from now on",
                    p.path(), p.pid, known.cgroupId(), known.mountNsId(), read.cgroupId(), read.mountNsId());
        }
        return true;
    }

    /**
     * The pending exec as a decider deciding on a guessed placement sees it: an allowing answer goes through, a
     * denial is held back (the exec is decided again with its placement read) and reported to the decider as not
     * told (so it reports nothing); a late answer it sets is ignored (the decision is made again if it matters).
     */
    private static final class Withholding implements PendingExec {
        private final Pending pending;
        volatile boolean withheld;

        Withholding(Pending pending) {
            this.pending = pending;
        }

        @Override
        public void answerOnTimeout(PermissionDecision answer, String decidedBy) {
        }

        @Override
        public String timeoutDecidedBy() {
            return pending.timeoutDecidedBy();
        }

        @Override
        public PermissionDecision answer(PermissionDecision decision) {
            if (decision.allows() || pending.done.get()) {
                return pending.answer(decision);
            }
            withheld = true;
            // not denied by this call; a denial on the process's real placement is answered and reported then
            return PermissionDecision.ALLOW;
        }
    }

    /**
     * Decides on this (reading) thread when the decider can at once ({@link ExecPermissionDecider#decideAtOnce}): no
     * hand-off to a decision thread, whose wake-up the exec would wait for. Only for an idle lane, so a container's
     * execs are still decided one at a time while one of them takes long.
     *
     * @return whether the exec was decided (answered) here
     */
    private boolean decidedAtOnce(Pending p, ExecPermissionRequest request) {
        if (p.done.get()) {
            return false;
        }
        Optional<PermissionDecision> d;
        p.decideAtNanos = p.queuedAtNanos;
        try {
            d = decider.decideAtOnce(request);
        } catch (Throwable e) {
            failed(p, e);
            return true;
        }
        if (d == null || d.isEmpty()) {
            p.decideAtNanos = 0;
            return false;
        }
        atOnce.increment();
        answerDecided(p, d.get());
        return true;
    }

    /** The decider's answer, unless the deadline answered first (then counted as late, and as overruled if so). */
    private void answerDecided(Pending p, PermissionDecision d) {
        PermissionDecision told = p.answer(d, null);
        if (p.defaultReason != null) {
            lateDecisions.increment();
            if (!told.allows() && d.allows()) {
                overruled.increment();
                log.warn("exec of {} by pid {} was denied by default ({}) though the decision, {} ms after the "
                                + "exec, was to allow it", p.path(), p.pid, p.defaultReason,
                        java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.readAtNanos));
            }
        }
    }

    /**
     * An exec answered at its deadline before its turn came is not decided any more: its answer is given, and a
     * lane working through a backlog of stale decisions would make every later exec of the container late too. A
     * denied one is handed to the decider to report.
     */
    private void decideInLane(Pending p, ExecPermissionRequest request) {
        if (p.done.get()) {
            skipped.increment();
            undecided(p);
            return;
        }
        deciding.put(Thread.currentThread(), p);
        p.decideAtNanos = System.nanoTime();
        try {
            PermissionDecision d = decider.decide(request);
            if (d == null) {
                p.answerDefault("null_decision");
                undecided(p);
                return;
            }
            answerDecided(p, d);
        } catch (Throwable e) {
            failed(p, e);
        } finally {
            deciding.remove(Thread.currentThread());
            Thread.interrupted();
        }
    }

    /**
     * The decision's event with the process's details (parent, uid, gid, start time) read from /proc now, on the
     * calling thread (for a report: before a denial's answer, or after a default answer); when the process is gone the
     * details stay unknown, counted ({@link GuardStats#detailsMissing()}).
     */
    private ExecEvent withProcessDetails(ExecEvent decided, List<ExecCorrelator.Part> parts) {
        WorkerTools t = tools.get();
        ExecEvent read = t.assembler().assemble(decided.pid(), t.proc().read(decided.pid()), parts, List.of(), null,
                decided.timestampNs());
        if (read.startTimeNs() == 0L) {
            detailsMissing.increment();
            log.debug("pid {} was gone before its details could be read after the answer", decided.pid());
            return decided;
        }
        return new ExecEvent(decided.pid(), read.tgid(), read.ppid(), read.uid(), read.gid(), read.startTimeNs(),
                decided.comm(), decided.filename(), decided.file(), decided.interpreter(), decided.cgroupId(),
                decided.mountNsId(), decided.flags(), decided.source(), decided.timestampNs(), decided.kernel());
    }

    private void failed(Pending p, Throwable e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        log.debug("exec decider failed for pid {}: {}", p.pid, e.toString());
        if (e instanceof InterruptedException) {
            p.answerTimeout();
        } else {
            p.answerDefault("decider_error");
        }
        undecided(p);
        if (e instanceof VirtualMachineError) {
            throw (VirtualMachineError) e;
        }
    }

    /**
     * Without a reader nobody would answer, and guarded execs would wait until the group closes: remove the marks so
     * no new permission events arrive, then answer whatever is queued or pending with the default.
     */
    private synchronized void failOpen() {
        running = false;
        group.removeAllMarks();
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
        try {
            while (group.readAvailable(buf)) {
                enqueue(buf, "reader_failed").forEach(p -> p.answerDefault("reader_failed"));
            }
        } catch (IOException | RuntimeException e) {
            log.error("draining the permission queue failed: {}", e.toString());
        }
        for (Pending p : List.copyOf(pending)) {
            p.answerDefault("reader_failed");
        }
    }

    /**
     * Registers every permission event in {@code buf} as pending (from then on the deadline thread covers it).
     *
     * @param reasonIfStopping the default's reason for events read while stopping
     */
    private List<Pending> enqueue(ByteBuffer buf, String reasonIfStopping) {
        List<Pending> batch = new java.util.ArrayList<>(config.eventsPerRead());
        int off = 0;
        int limit = buf.limit();
        while (off + Native.EVENT_METADATA_LEN <= limit) {
            int eventLen = buf.getInt(off);
            long mask = buf.getLong(off + 8);
            int fd = buf.getInt(off + 16);
            int pid = buf.getInt(off + 20);
            if (eventLen < Native.EVENT_METADATA_LEN || off + eventLen > limit) {
                log.error("malformed fanotify permission event (len {} at {} of {})", eventLen, off, limit);
                break;
            }
            off += eventLen;
            if (fd < 0 || (mask & Native.FAN_OPEN_EXEC_PERM) == 0) {
                if ((mask & Native.FAN_Q_OVERFLOW) != 0) {
                    log.warn("fanotify permission queue overflow");
                }
                continue;
            }
            received.increment();
            Pending p = new Pending(fd, pid);
            pending.add(p);
            if (deadlineThreadIdle) {
                LockSupport.unpark(deadlines);
            }
            if (!running) {
                p.answerDefault(reasonIfStopping);
            } else {
                batch.add(p);
            }
        }
        return batch;
    }

    /**
     * Answers overdue events with the default. A ticking scan instead of one scheduled task per event: scheduling
     * would wake a timer thread on every exec; this costs a few wake-ups per second and answers within one tick
     * (at most a tenth of the timeout, 10 ms at most) after the deadline.
     */
    private void deadlineLoop() {
        long tickMs = Math.max(1, Math.min(10, config.decisionTimeout().toMillis() / 10));
        ByteBuffer rescue = ByteBuffer.allocateDirect(64 * Native.EVENT_METADATA_LEN).order(ByteOrder.nativeOrder());
        while (running) {
            if (pending.isEmpty() && deciding.isEmpty() && preparing.isEmpty()) {
                // nothing to watch (no block rule, or a quiet guarded container): sleep until an event is registered
                // instead of ticking; the first pending event of a burst wakes this thread, the rest do not. A worker
                // still inside a decider (even one answered by timeout) keeps it ticking: it may have to read the
                // queue for the stuck workers
                deadlineThreadIdle = true;
                if (pending.isEmpty() && deciding.isEmpty() && preparing.isEmpty() && running) {
                    LockSupport.park(this);
                }
                deadlineThreadIdle = false;
                if (Thread.interrupted()) {
                    return;
                }
                continue;
            }
            try {
                Thread.sleep(tickMs);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Pending p : pending) {
                if (now - p.deadlineNanos >= 0) {
                    p.answerTimeout();
                }
            }
            interruptAbandonedDeciders(now);
            if (allWorkersStuck(now)) {
                // every worker sits in a decider past its deadline: nobody reads; answer what is queued
                try {
                    while (running && group.readAvailable(rescue)) {
                        enqueue(rescue, "shutdown").forEach(p -> p.answerDefault("overloaded"));
                    }
                } catch (IOException | RuntimeException e) {
                    log.error("rescue read of the permission queue failed: {}", e.toString());
                }
            }
        }
    }

    /**
     * A decision past its deadline is left to finish (its exec is answered; finishing it reports a denial with its
     * facts), in its own lane only; one that runs on {@link #ABANDON_AFTER_TIMEOUTS} timeouts past it is interrupted,
     * so a decider that hangs cannot hold a decision thread for ever. A reading thread stuck in the quick first step
     * is interrupted at once.
     */
    private void interruptAbandonedDeciders(long now) {
        long abandonNanos = config.decisionTimeout().toNanos() * ABANDON_AFTER_TIMEOUTS;
        deciding.forEach((thread, p) -> {
            if (p.done.get() && now - p.deadlineNanos - abandonNanos >= 0 && deciding.get(thread) == p) {
                thread.interrupt();
            }
        });
        preparing.forEach((thread, p) -> {
            if (p.timedOut && preparing.get(thread) == p) {
                thread.interrupt();
            }
        });
    }

    private boolean allWorkersStuck(long now) {
        if (preparing.size() < workers.size()) {
            return false;
        }
        for (Pending p : preparing.values()) {
            if (now - p.deadlineNanos < 0) {
                return false;
            }
        }
        return true;
    }

    /** Hands an exec denied without a decision to the decider, to report (once per exec). */
    private void undecided(Pending p) {
        ExecPermissionRequest request = p.request;
        if (request == null || p.toldDecision().allows() || !p.reportedUndecided.compareAndSet(false, true)) {
            return;
        }
        try {
            decider.deniedWithoutDecision(request, p.defaultReason == null ? "unknown" : p.defaultReason);
        } catch (RuntimeException e) {
            log.warn("reporting the exec of {} denied without a decision failed: {}", p.path(), e.toString());
        }
    }

    /** One permission event: answered (write + close of its fd) exactly once, by whoever gets there first. */
    private final class Pending implements PendingExec {
        final int fd;
        final int pid;
        final long readAtNanos = System.nanoTime();
        /** When it was handed to its lane, and when a decision thread took it (0 until then). */
        volatile long queuedAtNanos;
        volatile long decideAtNanos;
        final long deadlineNanos = readAtNanos + config.decisionTimeout().toNanos();
        final AtomicBoolean done = new AtomicBoolean();
        volatile boolean timedOut;
        /** The file's facts, once read from the fd. */
        volatile ExecutedFile file;
        volatile Object lane;
        volatile PermissionDecision onTimeout = config.defaultDecision();
        volatile String onTimeoutBy = "blocking.onTimeout";
        /** Set when answered by default, before the answer. */
        volatile String defaultReason;
        /** What the kernel was told; set before {@link #done} becomes visible to a losing answer. */
        volatile PermissionDecision told;
        volatile ExecPermissionRequest request;
        final AtomicBoolean reportedUndecided = new AtomicBoolean();

        Pending(int fd, int pid) {
            this.fd = fd;
            this.pid = pid;
        }

        /** What the kernel was told; only once answered. */
        PermissionDecision toldDecision() {
            PermissionDecision d;
            while ((d = told) == null) {
                Thread.onSpinWait();
            }
            return d;
        }

        String path() {
            ExecutedFile f = file;
            return f == null ? "(unknown file)" : f.path();
        }

        @Override
        public void answerOnTimeout(PermissionDecision answer, String decidedBy) {
            if (answer == PermissionDecision.ALLOW_UNTIL_MODIFIED) {
                throw new IllegalArgumentException("a late answer is ALLOW or DENY: it is never remembered");
            }
            onTimeoutBy = decidedBy;
            onTimeout = answer;
        }

        @Override
        public String timeoutDecidedBy() {
            return onTimeoutBy;
        }

        @Override
        public PermissionDecision answer(PermissionDecision decision) {
            return answer(decision, null);
        }

        void answerTimeout() {
            answer(onTimeout, "timeout");
        }

        void answerDefault(String reason) {
            answer(config.defaultDecision(), reason);
        }

        /** Whatever remembering does, the answer below is still written. */
        private void rememberQuietly(ExecutedFile f) {
            try {
                allowances.remember(fd, f);
            } catch (RuntimeException e) {
                log.warn("remembering the allowance of {} failed: {}", f.path(), e.toString());
            }
        }

        /**
         * @param defaultReason why this is not the decider's answer; null when it is
         * @return what the kernel was told (by this call, or by whoever answered first)
         */
        PermissionDecision answer(PermissionDecision d, String defaultReason) {
            if (!done.compareAndSet(false, true)) {
                PermissionDecision earlier;
                while ((earlier = told) == null) {
                    Thread.onSpinWait();
                }
                return earlier;
            }
            timedOut = "timeout".equals(defaultReason);
            this.defaultReason = defaultReason;
            told = d;
            // counted before the answer releases the exec, so that whoever sees the exec go on sees it counted
            (d.allows() ? allowed : denied).increment();
            if (defaultReason != null) {
                defaulted.computeIfAbsent(defaultReason, k -> new LongAdder()).increment();
                if (!d.allows()) {
                    defaultedDenied.computeIfAbsent(defaultReason, k -> new LongAdder()).increment();
                }
                logDefault(d, defaultReason);
            }
            groupLock.readLock().lock();
            try {
                if (groupOpen) {
                    if (d == PermissionDecision.ALLOW_UNTIL_MODIFIED && file != null) {
                        rememberQuietly(file);
                    }
                    if (!group.respond(RESPONSE_BUFFER.get(), fd, d.allows())) {
                        answerFailed.increment();
                    }
                    group.closeEventFd(fd);
                }
            } finally {
                groupLock.readLock().unlock();
            }
            long answeredAt = System.nanoTime();
            pending.remove(this);
            if (defaultReason == null && decideAtNanos != 0) {
                decided.increment();
                prepareNanos.add(queuedAtNanos - readAtNanos);
                laneWaitNanos.add(decideAtNanos - queuedAtNanos);
                decideNanos.add(answeredAt - decideAtNanos);
            }
            return d;
        }

        private void logDefault(PermissionDecision d, String reason) {
            if ("shutdown".equals(reason)) {
                log.info("exec of {} by pid {} answered {} while the guard stops", path(), pid, d);
            } else if ("timeout".equals(reason)) {
                log.warn("exec of {} by pid {} (lane {}) answered {} by {}: no decision within {} ms", path(), pid,
                        lane, d, onTimeoutBy, config.decisionTimeout().toMillis());
            } else {
                log.warn("exec of {} by pid {} (lane {}) answered {} by blocking.onTimeout: {}", path(), pid, lane, d,
                        reason);
            }
        }
    }

    /**
     * Removes every mark (no new permission events), stops the reader, answers every queued and pending event with
     * the default, stops the workers, closes the group. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            if (group == null) {
                return;
            }
            running = false;
            group.removeAllMarks();
            // answer first: a decider that ignores interrupts must not hold an exec while close() waits for it
            for (Pending p : List.copyOf(pending)) {
                p.answerDefault("shutdown");
            }
            group.wakeup();
            workers.forEach(Thread::interrupt);
            lanes.close(JOIN_TIMEOUT_MS);
            for (Thread t : workers) {
                join(t);
                if (t.isAlive()) {
                    log.error("exec guard worker {} did not stop (a decider ignores interrupts)", t.getName());
                }
            }
            deadlines.interrupt();
            join(deadlines);
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
            try {
                while (group.readAvailable(buf)) {
                    enqueue(buf, "shutdown");
                }
            } catch (IOException e) {
                log.warn("draining the permission queue failed: {}", e.toString());
            }
            for (Pending p : List.copyOf(pending)) {
                p.answerDefault("shutdown");
            }
            groupLock.writeLock().lock();
            try {
                groupOpen = false;
                group.close();
            } finally {
                groupLock.writeLock().unlock();
            }
            log.info("fanotify exec guard closed: {}", stats());
        }
    }

    private static void join(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join(JOIN_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
