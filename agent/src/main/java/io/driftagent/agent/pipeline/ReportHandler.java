package io.driftagent.agent.pipeline;

import java.util.concurrent.TimeUnit;

/** Hands alerts to the reporter and records exec-to-alert latency at that moment. */
final class ReportHandler implements StageHandler<ExecInFlight> {

    /** A larger gap means the timestamp is not CLOCK_MONOTONIC (a bug upstream), not a slow pipeline. */
    private static final long MAX_PLAUSIBLE_LATENCY_NANOS = TimeUnit.HOURS.toNanos(1);

    private final AlertPublisher publisher;
    private final PipelineMetrics metrics;
    private final MonotonicClock clock;

    ReportHandler(AlertPublisher publisher, PipelineMetrics metrics, MonotonicClock clock) {
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public void handle(ExecInFlight exec) {
        boolean accepted = publisher.publish(exec.alert());
        long latency = clock.nanoTime() - exec.event().timestampNs();
        if (accepted) {
            metrics.published.increment();
        } else {
            metrics.publishRejected.increment();
        }
        if (latency >= 0 && latency <= MAX_PLAUSIBLE_LATENCY_NANOS) {
            metrics.execToAlert.record(latency, TimeUnit.NANOSECONDS);
        } else {
            metrics.latencyOutOfRange.increment();
        }
    }
}
