package io.driftagent.agent.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A named stage: a bounded input queue drained by one thread. {@link #offer} never blocks: a full queue drops the
 * item and counts it for this stage.
 */
final class Stage<I> {

    private static final Logger LOG = LoggerFactory.getLogger(Stage.class);
    /**
     * Upper bound on one idle wait. Long, so an idle agent does not wake six threads 20 times a second (idle CPU is a
     * target); {@link #drain} interrupts the wait, so draining does not wait for it.
     */
    private static final long MAX_IDLE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String name;
    private final BlockingQueue<I> queue;
    private final StageHandler<I> handler;
    private final MonotonicClock clock;
    private final Timer latency;
    private final Counter droppedFull;
    private final Counter droppedShutdown;
    private final Counter errors;
    private volatile boolean draining;
    private volatile boolean stopped;
    private Thread thread;

    Stage(String name, int capacity, StageHandler<I> handler, MonotonicClock clock, PipelineMetrics metrics) {
        this.name = name;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.handler = handler;
        this.clock = clock;
        this.latency = metrics.stageLatency(name);
        this.droppedFull = metrics.dropped(name, "queue_full");
        this.droppedShutdown = metrics.dropped(name, "shutdown");
        this.errors = metrics.stageErrors(name);
        metrics.queueDepth(name, queue);
    }

    String name() {
        return name;
    }

    boolean offer(I item) {
        if (stopped) {
            droppedShutdown.increment();
            return false;
        }
        if (queue.offer(item)) {
            return true;
        }
        droppedFull.increment();
        return false;
    }

    int depth() {
        return queue.size();
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
            }
            timer();
            if (draining && queue.isEmpty()) {
                handler.flush();
                return;
            }
            if (stopped) {
                return;
            }
        }
    }

    private void process(I item) {
        long start = clock.nanoTime();
        try {
            handler.handle(item);
        } catch (RuntimeException e) {
            errors.increment();
            LOG.warn("stage {} failed on an item; it is dropped", name, e);
        } finally {
            latency.record(clock.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    private void timer() {
        try {
            handler.onTimer(clock.nanoTime());
        } catch (RuntimeException e) {
            errors.increment();
            LOG.warn("stage {} timer failed", name, e);
        }
    }
}
