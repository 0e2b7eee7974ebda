package io.driftagent.agent.pipeline;

import io.micrometer.core.instrument.Counter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A named stage: a bounded input queue drained by one thread. {@link #offer} never blocks: a full queue drops the
 * item and counts it for this stage. The thread takes what is queued in batches (one lock per batch) and also runs the
 * {@link InlineStage}s it hosts: each right after the handler that fed it returned, in order, before the next item.
 */
final class Stage<I> implements StageInput<I> {

    private static final Logger LOG = LoggerFactory.getLogger(Stage.class);
    /**
     * Upper bound on one idle wait. Long, so an idle agent does not wake six threads 20 times a second (idle CPU is a
     * target); {@link #drain} interrupts the wait, so draining does not wait for it.
     */
    private static final long MAX_IDLE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Items taken from the queue at once; the timer runs between batches. */
    private static final int BATCH = 64;

    private final String name;
    private final BlockingQueue<I> queue;
    /** Room at the end of the queue that only {@link #offerReserved} may fill. */
    private final int reserved;
    private final StageHandler<I> handler;
    private final MonotonicClock clock;
    private final MeteredHandler<I> metered;
    private final Counter droppedFull;
    private final Counter droppedShutdown;
    private volatile boolean draining;
    private volatile boolean stopped;
    private Thread thread;
    /** Work of hosted inline stages, run on this stage's thread only. */
    private final ArrayDeque<Runnable> inline = new ArrayDeque<>();
    private final List<I> batch = new ArrayList<>(BATCH);

    Stage(String name, int capacity, StageHandler<I> handler, MonotonicClock clock, PipelineMetrics metrics) {
        this(name, capacity, handler, clock, metrics, List.of());
    }

    /** @param hosted the inline stages this stage's thread runs (its handler feeds the first of them) */
    Stage(String name, int capacity, StageHandler<I> handler, MonotonicClock clock, PipelineMetrics metrics,
          List<InlineStage<?>> hosted) {
        this(name, capacity, 0, handler, clock, metrics, hosted);
    }

    /**
     * @param reserved room beyond {@code capacity} that only {@link #offerReserved} fills
     * @param hosted   the inline stages this stage's thread runs (its handler feeds the first of them)
     */
    Stage(String name, int capacity, int reserved, StageHandler<I> handler, MonotonicClock clock,
          PipelineMetrics metrics, List<InlineStage<?>> hosted) {
        hosted.forEach(stage -> stage.hostOn(this));
        this.name = name;
        this.reserved = reserved;
        this.queue = new ArrayBlockingQueue<>(capacity + reserved);
        this.handler = handler;
        this.clock = clock;
        this.metered = new MeteredHandler<>(name, handler, clock, metrics);
        this.droppedFull = metrics.dropped(name, "queue_full");
        this.droppedShutdown = metrics.dropped(name, "shutdown");
        metrics.queueDepth(name, queue);
    }

    String name() {
        return name;
    }

    @Override
    public boolean offer(I item) {
        return offerLeavingFree(item, reserved);
    }

    /**
     * As {@link #offer}, into the reserved room too: for the few items that must not be dropped with a storm's (the
     * self-test's canary: an agent under a long storm would otherwise never prove it detects, and never be Ready).
     * Several producers may each take one slot of the reserve in a race with this; the reserve is sized for that.
     */
    boolean offerReserved(I item) {
        return offerLeavingFree(item, 0);
    }

    /** Queues the item unless stopped or fewer than {@code free} + 1 places are left; a refusal is counted. */
    private boolean offerLeavingFree(I item, int free) {
        if (stopped) {
            droppedShutdown.increment();
            return false;
        }
        if ((free == 0 || queue.remainingCapacity() > free) && queue.offer(item)) {
            return true;
        }
        droppedFull.increment();
        return false;
    }

    int depth() {
        return queue.size();
    }

    /** Queues work of an inline stage this stage hosts; only its handlers (on this stage's thread) call this. */
    void runNext(Runnable work) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("inline work for stage " + name + " offered from another thread");
        }
        inline.add(work);
    }

    /** Started and its thread still running (not yet drained, not died of an Error). */
    boolean isRunning() {
        return thread != null && thread.isAlive();
    }

    void start() {
        thread = new Thread(this::loop, "drift-stage-" + name);
        thread.setDaemon(true);
        thread.setUncaughtExceptionHandler((t, e) -> LOG.error("stage {} died; the pipeline is broken", name, e));
        thread.start();
    }

    /**
     * Lets the stage finish its queue (and flush what its handler holds), then stops its thread. Items still queued
     * at the deadline are dropped and counted.
     *
     * @return true when the stage finished before the deadline
     */
    boolean drain(long deadlineNanos) throws InterruptedException {
        draining = true;
        boolean clean = true;
        if (thread != null) {
            thread.interrupt(); // wake an idle wait; the loop goes on draining
            long remaining = deadlineNanos - clock.nanoTime();
            if (remaining > 0) {
                TimeUnit.NANOSECONDS.timedJoin(thread, remaining);
            }
            if (thread.isAlive()) {
                clean = false;
                LOG.warn("stage {} did not drain before the deadline; abandoning {} queued items", name, queue.size());
                thread.interrupt();
                thread.join(TimeUnit.SECONDS.toMillis(1));
            }
        }
        stopped = true;
        int abandoned = queue.size();
        queue.clear();
        droppedShutdown.increment(abandoned);
        return clean && abandoned == 0;
    }

    private void loop() {
        while (true) {
            I item = null;
            try {
                long wait = draining ? 0
                        : Math.max(0, Math.min(handler.nanosUntilTimer(clock.nanoTime()), MAX_IDLE_WAIT_NANOS));
                item = queue.poll(wait, TimeUnit.NANOSECONDS);
            } catch (InterruptedException wokenToDrain) {
                if (!draining) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (item != null) {
                process(item);
                batch.clear();
                queue.drainTo(batch, BATCH - 1);
                for (I next : batch) {
                    process(next);
                }
                batch.clear();
            }
            timer();
            if (draining && queue.isEmpty()) {
                handler.flush();
                runInline();
                return;
            }
            if (stopped) {
                return;
            }
        }
    }

    private void process(I item) {
        metered.handle(item);
        runInline();
    }

    private void timer() {
        metered.onTimer();
        runInline();
    }

    /** Each inline stage records its own errors; whatever one of them queues runs here too, in order. */
    private void runInline() {
        Runnable work;
        while ((work = inline.poll()) != null) {
            work.run();
        }
    }
}
