package io.driftagent.reporter.dispatch;

import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sink's private bounded queue and thread. A sink that hangs only fills its own queue (further alerts for it are
 * dropped and counted); a call that overruns the timeout is counted as timed out and its thread interrupted by the
 * dispatcher's watchdog (on the monotonic {@code System.nanoTime}, so wall-clock steps never fire or hide a
 * timeout; the injected clock only stamps the last success). Every alert handed to a lane ends in exactly one of:
 * published, failed, timed out, dropped.
 */
final class SinkLane {

    private static final Logger log = LoggerFactory.getLogger(SinkLane.class);
    /** Queued at close so an idle lane wakes at once instead of at its next poll timeout. */
    private static final AlertDispatcher.Job WAKE_UP = new AlertDispatcher.Job(null, 0);
    private static final long IDLE_POLL_MILLIS = 1_000;

    /** The call in progress; whoever settles it first (lane thread or watchdog) counts its outcome. */
    private static final class Call {
        final long startedNanos;
        final AtomicBoolean settled = new AtomicBoolean();

        Call(long startedNanos) {
            this.startedNanos = startedNanos;
        }
    }

    private final AlertSink sink;
    private final BlockingQueue<AlertDispatcher.Job> queue;
    private final Clock clock;
    private final long timeoutNanos;
    private final Thread thread;
    private final Counter published;
    private final Counter failed;
    private final Counter timedOut;
    private final Counter droppedQueueFull;
    private final Counter droppedShutdown;
    private final Timer latency;

    private volatile Call current;
    private volatile double lastSuccessEpochSeconds = Double.NaN;
    private volatile boolean closing;
    private boolean failing;

    SinkLane(AlertSink sink, int capacity, long timeoutMillis, MeterRegistry registry, Clock clock) {
        this.sink = sink;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.clock = clock;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String name = sink.name();
        this.published = outcome(registry, name, "published");
        this.failed = outcome(registry, name, "failed");
        this.timedOut = outcome(registry, name, "timed_out");
        this.droppedQueueFull = dropped(registry, name, "queue_full");
        this.droppedShutdown = dropped(registry, name, "shutdown");
        this.latency = Timer.builder("drift.sink.latency").description("Duration of one sink call")
                .tag("sink", name).register(registry);
        Gauge.builder("drift.sink.queue.depth", queue, BlockingQueue::size)
                .description("Alerts waiting for one sink").tag("sink", name).register(registry);
        Gauge.builder("drift.sink.last.success.timestamp", this, lane -> lane.lastSuccessEpochSeconds)
                .description("Wall-clock time of the sink's last successful publish (NaN before the first)")
                .baseUnit("seconds").tag("sink", name).register(registry);
        this.thread = new Thread(this::run, "drift-sink-" + name);
        this.thread.setDaemon(true);
    }

    private static Counter outcome(MeterRegistry registry, String sink, String outcome) {
        return Counter.builder("drift.sink.alerts").description("Alerts handled by a sink, by outcome")
                .tag("sink", sink).tag("outcome", outcome).register(registry);
    }

    private static Counter dropped(MeterRegistry registry, String sink, String reason) {
        return Counter.builder("drift.sink.dropped").description("Alerts a sink never got, by reason")
                .tag("sink", sink).tag("reason", reason).register(registry);
    }

    void start() {
        thread.start();
    }

    String name() {
        return sink.name();
    }

    /** Never blocks: a full lane drops the alert for this sink only. */
    void offer(AlertDispatcher.Job job) {
        if (closing || !queue.offer(job)) {
            (closing ? droppedShutdown : droppedQueueFull).increment();
            log.debug("sink {} dropped alert {}", sink.name(), job.alert().id());
        }
    }

    /** A call into the sink is under way (its deadline needs watching). */
    boolean calling() {
        return current != null;
    }

    /** Called by the dispatcher's worker: times out an overrunning call. */
    void checkDeadline() {
        Call call = current;
        if (call != null && System.nanoTime() - call.startedNanos > timeoutNanos
                && call.settled.compareAndSet(false, true)) {
            timedOut.increment();
            log.warn("alert sink {} did not return within {} ms; interrupting it", sink.name(),
                    TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
            thread.interrupt();
        }
    }

    /** Stops taking new alerts; the thread finishes the queue, then exits. */
    void beginClose() {
        closing = true;
        queue.offer(WAKE_UP); // when full, the lane is busy and notices closing by itself
    }

    boolean awaitDrained(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        return !thread.isAlive();
    }

    /** After the deadline: abandon what is left (counted) and close the sink. */
    void abandonAndCloseSink() {
        closing = true;
        queue.remove(WAKE_UP);
        int left = queue.size();
        queue.clear();
        droppedShutdown.increment(left);
        if (thread.isAlive()) {
            thread.interrupt();
            try {
                thread.join(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (thread.isAlive()) {
            // closing now could block on the hung call's lock (e.g. a stdout nobody reads); leave it to the JVM exit
            log.warn("alert sink {} is still busy after the shutdown deadline; not closing it", sink.name());
            return;
        }
        try {
            sink.close();
        } catch (RuntimeException e) {
            log.warn("closing alert sink {} failed", sink.name(), e);
        }
    }

    private void run() {
        while (true) {
            AlertDispatcher.Job job;
            try {
                job = closing ? queue.poll() : queue.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException staleTimeoutInterrupt) {
                continue;
            }
            if (job == null) {
                if (closing) {
                    return;
                }
                continue;
            }
            if (job == WAKE_UP) {
                continue;
            }
            call(job.alert(), job.count());
            Thread.interrupted(); // a watchdog interrupt that raced with a finishing call must not leak into the next
        }
    }

    private void call(Alert alert, int count) {
        long startNanos = System.nanoTime();
        Call call = new Call(startNanos);
        current = call;
        Throwable error = null;
        try {
            sink.publish(alert, count);
        } catch (Exception | LinkageError e) {
            error = e;
        } finally {
            current = null;
            latency.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        }
        if (!call.settled.compareAndSet(false, true)) {
            return; // already counted as timed out
        }
        if (error == null) {
            published.increment();
            lastSuccessEpochSeconds = clock.millis() / 1000.0;
            if (failing) {
                failing = false;
                log.info("alert sink {} recovered", sink.name());
            }
        } else {
            failed.increment();
            if (!failing) {
                failing = true;
                log.warn("alert sink {} failed; further failures are logged at DEBUG until it recovers", sink.name(), error);
            } else {
                log.debug("alert sink {} failed for alert {}", sink.name(), alert.id(), error);
            }
        }
    }
}
