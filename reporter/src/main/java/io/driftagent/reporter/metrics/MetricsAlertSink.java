package io.driftagent.reporter.metrics;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.dispatch.AlertSink;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Counts alerts ({@code drift.alerts{type}}) as a sink, and (unless {@link #countingOnly}) records exec-to-alert
 * latency as the time from {@link Alert#time()} (which the pipeline sets to the exec's wall-clock time) to the moment
 * the dispatcher reaches this sink: millisecond resolution, and only as good as the wall clock. A pipeline that has
 * the exec's monotonic timestamp should use {@link #countingOnly} and call {@link DriftMetrics#recordExecToAlert}
 * itself. A summary alert (count > 1) is counted {@code count} times but not timed (its time is old by design).
 */
public final class MetricsAlertSink implements AlertSink {

    private final DriftMetrics metrics;
    private final Clock clock;

    /** Counts alerts and times them from {@link Alert#time()} on {@code clock}. */
    public MetricsAlertSink(DriftMetrics metrics, Clock clock) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    private MetricsAlertSink(DriftMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = null;
    }

    /** Counts alerts only; exec-to-alert latency is recorded by the caller. */
    public static MetricsAlertSink countingOnly(DriftMetrics metrics) {
        return new MetricsAlertSink(metrics);
    }

    @Override
    public String name() {
        return "metrics";
    }

    /** Counting is a few memory updates: called on the dispatcher's worker, without a lane. */
    @Override
    public boolean inProcess() {
        return true;
    }

    @Override
    public void publish(Alert alert) {
        publish(alert, 1);
    }

    @Override
    public void publish(Alert alert, int count) {
        metrics.alertEmitted(alert.alertType(), count);
        if (clock != null && count == 1) {
            Duration latency = Duration.between(alert.time(), clock.instant());
            if (!latency.isNegative()) {
                metrics.recordExecToAlert(latency.toNanos());
            }
        }
    }
}
