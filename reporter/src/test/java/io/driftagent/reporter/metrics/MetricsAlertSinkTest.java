package io.driftagent.reporter.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MetricsAlertSinkTest {

    private final DriftMetrics metrics = DriftMetrics.create();

    @Test
    void countsOccurrencesAndTimesSingleAlertsFromTheirExecTime() {
        // given an alert delivered 7 ms after its exec
        MetricsAlertSink sink = new MetricsAlertSink(metrics, Clock.fixed(SampleAlerts.TIME.plusMillis(7), ZoneOffset.UTC));
        Alert alert = SampleAlerts.full();

        // when one alert and one summary of 5 arrive
        sink.publish(alert);
        sink.publish(alert, 5);

        // then 6 occurrences, one latency sample of 7 ms
        assertThat(metrics.registry().get("drift.alerts").tag("type", "BinaryDrift").counter().count()).isEqualTo(6);
        Timer latency = metrics.execToAlertTimer();
        assertThat(latency.count()).isEqualTo(1);
        assertThat(latency.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(7);
    }

    @Test
    void countingOnlyLeavesTheLatencyToTheCaller() {
        // given
        MetricsAlertSink sink = MetricsAlertSink.countingOnly(metrics);

        // when
        sink.publish(SampleAlerts.minimal("/tmp/x"));

        // then
        assertThat(metrics.registry().get("drift.alerts").tag("type", "BinaryDriftBlocked").counter().count())
                .isEqualTo(1);
        assertThat(metrics.execToAlertTimer().count()).isZero();
    }
}
