package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.SourceUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous exec blocking with fanotify {@code FAN_OPEN_EXEC_PERM} (class FAN_CLASS_CONTENT; kernel &gt;= 5.0, no
 * BPF LSM needed), on only the filesystems / mounts given to {@link #guard(Path)} (the containers under a
 * {@code block} rule).
 *
 * <p>Every permission event is answered exactly once, within {@code decisionTimeout}: the reader thread only reads
 * and dispatches; the {@link ExecPermissionDecider} runs on a bounded pool; a scheduler answers the default at the
 * deadline; a throw, a null, a full pool, an unreadable fd all answer the default; {@link #close()} removes the
 * marks, answers everything still queued or pending with the default, then closes the group (the kernel would
 * allow whatever is left at that point).
 *
 * <p>Safety: a path on the agent's own root filesystem is only ever mount-marked, and the root mount itself is
 * refused, so a bug here cannot put the whole host under permission events.
 */
public final class FanotifyExecGuard implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FanotifyExecGuard.class);
    private static final long JOIN_TIMEOUT_MS = 5000;
    /** struct fanotify_response scratch space, one per answering thread (the answer path is per exec). */
    private static final ThreadLocal<ByteBuffer> RESPONSE_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()));

    private final GuardConfig config;
    private final ExecPermissionDecider decider;
    private final Clock clock;
    private final LongAdder received = new LongAdder();
    private final LongAdder allowed = new LongAdder();
    private final LongAdder denied = new LongAdder();
    private final LongAdder answerFailed = new LongAdder();
    private final Map<String, LongAdder> defaulted = new ConcurrentHashMap<>();
    private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
    /** Answers hold the read lock; closing the group fd takes the write lock, so no answer hits a reused fd number. */
    private final ReentrantReadWriteLock groupLock = new ReentrantReadWriteLock();
    private final Object lifecycle = new Object();

    private Native nat;
    private FanotifyGroup group;
    private OverlayLayers layers;
    private ThreadPoolExecutor workers;
    private Thread deadlines;
    private Thread reader;
    private ThreadLocal<WorkerTools> tools;
    private long hostRootDev;
    private long hostRootMountId;
    private volatile boolean running;
    private volatile boolean groupOpen;
    private boolean closed;

    public FanotifyExecGuard(GuardConfig config, ExecPermissionDecider decider, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.decider = Objects.requireNonNull(decider, "decider");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    private record WorkerTools(ExecutedFileInspector inspector, ProcessFactsReader proc, ExecEventAssembler assembler) {}

    public void start() throws SourceUnavailableException {
        synchronized (lifecycle) {
            if (closed || group != null) {
                throw new IllegalStateException("guard already started or closed");
            }
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
            Path cgroup2 = Cgroup2Mount.find(config.procRoot());
            tools = ThreadLocal.withInitial(() -> new WorkerTools(new ExecutedFileInspector(nat),
                    new ProcessFactsReader(nat, config.procRoot(), cgroup2, 100), new ExecEventAssembler(layers)));
            AtomicInteger n = new AtomicInteger();
            workers = new ThreadPoolExecutor(config.workers(), config.workers(), 30, TimeUnit.SECONDS,
                    new ArrayBlockingQueue<>(config.maxQueued()), r -> daemon(r, "fanotify-guard-decider-" + n.incrementAndGet()),
                    new ThreadPoolExecutor.AbortPolicy());
            running = true;
            deadlines = daemon(this::deadlineLoop, "fanotify-guard-deadline");
            deadlines.start();
            reader = daemon(this::readLoop, "fanotify-guard-reader");
            reader.start();
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
        return new GuardStats(received.sum(), allowed.sum(), denied.sum(), d, answerFailed.sum());
    }

    /** Permission events read but not answered yet (for tests and metrics). */
    public int pendingCount() {
        return pending.size();
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
        try {
            while (running) {
                if (group.awaitAndRead(buf, -1)) {
                    dispatchBatch(buf, "shutdown");
                }
            }
        } catch (IOException | RuntimeException e) {
            log.error("fanotify guard reader stopped: {}", e.toString(), e);
        }
    }

    /** @param reasonIfStopping the default's reason for events read while not running */
    private void dispatchBatch(ByteBuffer buf, String reasonIfStopping) {
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
            if (!running) {
                p.answerDefault(reasonIfStopping);
                continue;
            }
            try {
                p.work = workers.submit(() -> decide(p));
            } catch (RuntimeException e) { // RejectedExecutionException: pool and queue full
                p.answerDefault("overloaded");
            }
        }
    }

    /**
     * Answers overdue events with the default. A ticking scan instead of one scheduled task per event: scheduling
     * would wake a timer thread on every exec; this costs a few wake-ups per second and answers within one tick
     * (at most a tenth of the timeout, 10 ms at most) after the deadline.
     */
    private void deadlineLoop() {
        long tickMs = Math.max(1, Math.min(10, config.decisionTimeout().toMillis() / 10));
        while (running) {
            try {
                Thread.sleep(tickMs);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Pending p : pending) {
                if (now - p.deadlineNanos >= 0) {
                    p.answerDefault("timeout");
                }
            }
        }
    }

    private void decide(Pending p) {
        try {
            WorkerTools t = tools.get();
            ExecutedFile f = t.inspector().inspect(p.fd, true);
            if (f == null) {
                p.answerDefault("fd_unreadable");
                return;
            }
            ExecCorrelator.Part part = new ExecCorrelator.Part(f, layers.resolve(f));
            ExecEvent event = t.assembler().assemble(p.pid, t.proc().read(p.pid), List.of(part), List.of(), null, p.readAtNanos);
            PermissionDecision d = decider.decide(new ExecPermissionRequest(event, f.format() == ExecutedFile.Format.SCRIPT));
            if (d == null) {
                p.answerDefault("null_decision");
            } else {
                p.answer(d, null);
            }
        } catch (Throwable e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.debug("exec decider failed for pid {}: {}", p.pid, e.toString());
            p.answerDefault(e instanceof InterruptedException ? "timeout" : "decider_error");
            if (e instanceof VirtualMachineError) {
                throw (VirtualMachineError) e;
            }
        }
    }

    /** One permission event: answered (write + close of its fd) exactly once, by whoever gets there first. */
    private final class Pending {
        final int fd;
        final int pid;
        final long readAtNanos = System.nanoTime();
        final long deadlineNanos = readAtNanos + config.decisionTimeout().toNanos();
        final AtomicBoolean done = new AtomicBoolean();
        volatile Future<?> work;

        Pending(int fd, int pid) {
            this.fd = fd;
            this.pid = pid;
        }

        void answerDefault(String reason) {
            answer(config.defaultDecision(), reason);
        }

        void answer(PermissionDecision d, String defaultReason) {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            groupLock.readLock().lock();
            try {
                if (groupOpen) {
                    if (!group.respond(RESPONSE_BUFFER.get(), fd, d == PermissionDecision.ALLOW)) {
                        answerFailed.increment();
                    }
                    group.closeEventFd(fd);
                }
            } finally {
                groupLock.readLock().unlock();
            }
            (d == PermissionDecision.ALLOW ? allowed : denied).increment();
            if (defaultReason != null) {
                defaulted.computeIfAbsent(defaultReason, k -> new LongAdder()).increment();
                log.debug("exec of pid {} answered by default {} ({})", pid, d, defaultReason);
            }
            pending.remove(this);
            Future<?> w = work;
            if (w != null && "timeout".equals(defaultReason)) {
                w.cancel(true);
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
            group.wakeup();
            join(reader);
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
            try {
                while (group.readAvailable(buf)) {
                    dispatchBatch(buf, "shutdown");
                }
            } catch (IOException e) {
                log.warn("draining the permission queue failed: {}", e.toString());
            }
            for (Pending p : List.copyOf(pending)) {
                p.answerDefault("shutdown");
            }
            if (workers != null) {
                workers.shutdownNow();
                deadlines.interrupt();
                try {
                    if (!workers.awaitTermination(JOIN_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                        log.error("exec decider threads did not stop (a decider ignores interrupts)");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                join(deadlines);
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
