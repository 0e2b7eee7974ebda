package io.driftagent.reporter.dispatch;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.dedup.AlertDeduplicator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans alerts out to the sinks without ever blocking the detection path.
 *
 * <p>{@link #submit} only offers to a bounded queue (full: dropped, counted as
 * {@code drift.alerts.dropped{reason=queue_full}}). ONE worker thread takes from it, applies the optional
 * {@link AlertDeduplicator}, and hands each alert to every sink's own lane (a bounded queue and thread per sink,
 * see {@link SinkLane}), so a slow or hung sink delays only itself. The worker also acts as the watchdog: a sink call
 * that overruns {@code sinkTimeout} is counted as timed out and interrupted.
 *
 * <p>Metrics: {@code drift.alerts.dropped{reason}}, {@code drift.queue.depth{stage=dispatch}},
 * {@code drift.sink.alerts{sink,outcome=published|failed|timed_out}}, {@code drift.sink.dropped{sink,reason}},
 * {@code drift.sink.queue.depth{sink}}, {@code drift.sink.latency{sink}},
 * {@code drift.sink.last.success.timestamp{sink}} (wall clock from the injected {@link Clock}; sink timeouts are
 * measured on {@code System.nanoTime}). An {@linkplain AlertSink#inProcess() in-process} sink (the alert counters)
 * has no lane: the worker calls it directly, and it has none of the per-sink meters.
 */
public final class AlertDispatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AlertDispatcher.class);
    private static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(5);

    record Job(Alert alert, int count) {
    }

    private final BlockingQueue<Job> queue;
    private final List<SinkLane> lanes;
    private final List<AlertSink> inProcess;
    private final AlertDeduplicator deduplicator;
    private final long tickMillis;
    /** The worker's wait when nothing needs watching; an alert wakes it at once, and stop() interrupts it. */
    private static final long IDLE_POLL_MILLIS = 1_000;
    /** Offered by close() so an idle worker notices at once that it is stopping. */
    private static final Job WAKE_UP = new Job(null, 0);
    private final Thread worker;
    private final Counter droppedQueueFull;
    private final Counter droppedClosed;
    private volatile boolean accepting = true;
    private volatile boolean stopping;
    private boolean closed;

    /** A dispatcher without deduplication; each sink's lane holds up to {@code capacity} alerts. */
    public AlertDispatcher(List<AlertSink> sinks, int capacity, Duration sinkTimeout, MeterRegistry registry,
                           Clock clock) {
        this(builder().sinks(sinks).capacity(capacity).sinkTimeout(sinkTimeout).registry(registry).clock(clock));
    }

    private AlertDispatcher(Builder b) {
        Objects.requireNonNull(b.sinks, "sinks");
        Objects.requireNonNull(b.registry, "registry");
        Objects.requireNonNull(b.clock, "clock");
        Objects.requireNonNull(b.sinkTimeout, "sinkTimeout");
        int laneCapacity = b.laneCapacity < 0 ? b.capacity : b.laneCapacity;
        if (b.capacity < 1 || laneCapacity < 1) {
            throw new IllegalArgumentException("capacities must be >= 1");
        }
        if (b.sinkTimeout.isNegative() || b.sinkTimeout.isZero()) {
            throw new IllegalArgumentException("sinkTimeout must be positive: " + b.sinkTimeout);
        }
        this.queue = new ArrayBlockingQueue<>(b.capacity);
        this.deduplicator = b.deduplicator;
        long timeoutMillis = b.sinkTimeout.toMillis();
        this.tickMillis = Math.max(5, Math.min(100, timeoutMillis / 4));
        List<SinkLane> built = new ArrayList<>();
        List<AlertSink> direct = new ArrayList<>();
        for (AlertSink sink : b.sinks) {
            if (sink.inProcess()) {
                direct.add(sink);
            } else {
                built.add(new SinkLane(sink, laneCapacity, timeoutMillis, b.registry, b.clock));
            }
        }
        this.lanes = List.copyOf(built);
        this.inProcess = List.copyOf(direct);
        this.droppedQueueFull = Counter.builder("drift.alerts.dropped").description("Alerts dropped before any sink")
                .tag("reason", "queue_full").register(b.registry);
        this.droppedClosed = Counter.builder("drift.alerts.dropped").description("Alerts dropped before any sink")
                .tag("reason", "closed").register(b.registry);
        Gauge.builder("drift.queue.depth", queue, BlockingQueue::size).description("Items waiting in a pipeline stage")
                .tag("stage", "dispatch").register(b.registry);
        this.worker = new Thread(this::run, "drift-alert-dispatcher");
        this.worker.setDaemon(true);
        lanes.forEach(SinkLane::start);
        worker.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Queues one alert for all sinks. Never blocks; false when the alert was dropped (queue full or closed). */
    public boolean submit(Alert alert) {
        return submit(alert, 1);
    }

    /** Queues an alert that stands for {@code count} occurrences; with {@code count > 1} it bypasses deduplication. */
    public boolean submit(Alert alert, int count) {
        Objects.requireNonNull(alert, "alert");
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1: " + count);
        }
        if (!accepting) {
            droppedClosed.increment();
            return false;
        }
        if (!queue.offer(new Job(alert, count))) {
            droppedQueueFull.increment();
            log.debug("alert queue full, dropped alert {}", alert.id());
            return false;
        }
        return true;
    }

    /** Alerts waiting for the worker (not counting the sinks' lanes). */
    public int queued() {
        return queue.size();
    }

    private void run() {
        while (true) {
            Job job;
            try {
                job = queue.poll(nothingToWatch() ? IDLE_POLL_MILLIS : tickMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (job != null && job != WAKE_UP) {
                route(job);
            } else if (stopping && queue.isEmpty()) {
                break;
            }
            if (deduplicator != null) {
                deduplicator.flushDue(this::fanOut);
            }
            for (SinkLane lane : lanes) {
                lane.checkDeadline();
            }
        }
    }

    /** No summary window open and no sink call under way: the worker only has to wake for a new alert. */
    private boolean nothingToWatch() {
        if (deduplicator != null && deduplicator.size() > 0) {
            return false;
        }
        for (SinkLane lane : lanes) {
            if (lane.calling()) {
                return false;
            }
        }
        return true;
    }

    private void route(Job job) {
        if (deduplicator == null || job.count() > 1) {
            fanOut(job.alert(), job.count());
        } else {
            deduplicator.accept(job.alert(), this::fanOut);
        }
    }

    private void fanOut(Alert alert, int count) {
        for (AlertSink sink : inProcess) {
            try {
                sink.publish(alert, count);
            } catch (Exception | LinkageError e) {
                log.error("in-process sink {} failed on alert {}", sink.name(), alert.id(), e);
            }
        }
        Job job = new Job(alert, count);
        for (SinkLane lane : lanes) {
            lane.offer(job);
        }
    }

    /** Stops accepting, delivers what is queued within {@code timeout}, then closes the sinks. */
    public synchronized void close(Duration timeout) {
        if (closed) {
            return;
        }
        closed = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        accepting = false;
        stopping = true;
        queue.offer(WAKE_UP); // when full, the worker is busy and notices stopping by itself
        try {
            worker.join(Math.max(1, timeout.toMillis()));
            if (worker.isAlive()) {
                worker.interrupt();
                worker.join(100);
            }
            queue.remove(WAKE_UP);
            int undelivered = queue.size();
            queue.clear();
            droppedClosed.increment(undelivered);
            if (deduplicator != null) {
                deduplicator.flushAll(this::fanOut);
            }
            lanes.forEach(SinkLane::beginClose);
            for (SinkLane lane : lanes) {
                // the watchdog keeps running while we wait, so a hung call is still timed out
                while (!lane.awaitDrained(Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis)))
                        && System.nanoTime() < deadline) {
                    lanes.forEach(SinkLane::checkDeadline);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (SinkLane lane : lanes) {
                lane.abandonAndCloseSink();
            }
            for (AlertSink sink : inProcess) {
                sink.close();
            }
        }
    }

    @Override
    public void close() {
        close(DEFAULT_CLOSE_TIMEOUT);
    }

    /** Optional settings beyond the constructor's. */
    public static final class Builder {
        private List<AlertSink> sinks = List.of();
        private int capacity = 1024;
        private int laneCapacity = -1;
        private Duration sinkTimeout = Duration.ofSeconds(2);
        private MeterRegistry registry;
        private Clock clock = Clock.systemUTC();
        private AlertDeduplicator deduplicator;

        private Builder() {
        }

        public Builder sinks(List<AlertSink> sinks) {
            this.sinks = List.copyOf(sinks);
            return this;
        }

        /** The dispatcher's queue; also each sink's lane unless {@link #laneCapacity} is set. */
        public Builder capacity(int capacity) {
            this.capacity = capacity;
            return this;
        }

        public Builder laneCapacity(int laneCapacity) {
            this.laneCapacity = laneCapacity;
            return this;
        }

        public Builder sinkTimeout(Duration sinkTimeout) {
            this.sinkTimeout = sinkTimeout;
            return this;
        }

        public Builder registry(MeterRegistry registry) {
            this.registry = registry;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** Folds repeats before the sinks; its windows are closed on the worker's tick. */
        public Builder deduplicator(AlertDeduplicator deduplicator) {
            this.deduplicator = deduplicator;
            return this;
        }

        public AlertDispatcher build() {
            return new AlertDispatcher(this);
        }
    }
}
