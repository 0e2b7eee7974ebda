package io.driftagent.reporter.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.dispatch.AlertDispatcher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriftMetricsTest {

    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    @TempDir
    Path dir;

    @Test
    void exposedMetricsPassPromtoolAndShowTheCounts() throws Exception {
        assumeTrue(Files.isExecutable(PROMTOOL), "promtool (Debian package prometheus) is not installed");
        // given every kind of meter, fed
        DriftMetrics metrics = DriftMetrics.create();
        AtomicInteger depth = new AtomicInteger(7);
        metrics.registerQueue("classify", depth::get);
        metrics.registerImageIndex(() -> 3, () -> 123_456L);
        metrics.registerInformerSynced(() -> true);
        metrics.execObserved("ebpf");
        metrics.execObserved("ebpf");
        metrics.execObserved("fanotify");
        metrics.verdict("ADDED", "alert");
        metrics.verdict("IMAGE", "ignore");
        metrics.eventsLost("ringbuf_full", 5);
        metrics.recordStage("classify", 120_000);
        metrics.recordStage("policy", 3_000);
        metrics.policyReloaded();
        metrics.policyReloadFailed();
        Clock clock = Clock.fixed(SampleAlerts.TIME.plusMillis(3), ZoneOffset.UTC);
        try (AlertDispatcher dispatcher = new AlertDispatcher(List.of(new MetricsAlertSink(metrics, clock)), 16,
                Duration.ofSeconds(1), metrics.registry(), Clock.systemUTC())) {
            dispatcher.submit(SampleAlerts.full());
            dispatcher.submit(SampleAlerts.full(), 4);
        }

        // when
        String exposition = metrics.scrape();

        // then
        assertThat(promtoolCheck(exposition)).isEmpty();
        assertThat(exposition)
                .contains("drift_execs_observed_total{source=\"ebpf\"} 2.0")
                .contains("drift_execs_observed_total{source=\"fanotify\"} 1.0")
                .contains("drift_verdicts_total{action=\"alert\",kind=\"ADDED\"} 1.0")
                .contains("drift_alerts_total{type=\"BinaryDrift\"} 5.0")
                .contains("drift_alerts_total{type=\"BinaryDriftBlocked\"} 0.0")
                .contains("drift_events_lost_total{reason=\"ringbuf_full\"} 5.0")
                .contains("drift_queue_depth{stage=\"classify\"} 7.0")
                .contains("drift_queue_depth{stage=\"dispatch\"} 0.0")
                .contains("drift_stage_latency_seconds_bucket{stage=\"classify\",le=\"2.5E-4\"} 1")
                .contains("drift_stage_latency_seconds_count{stage=\"policy\"} 1")
                .contains("drift_exec_to_alert_latency_seconds_count 1")
                .contains("drift_exec_to_alert_latency_seconds_bucket{le=\"0.005\"} 1")
                .contains("drift_policy_reloads_total{result=\"success\"} 1.0")
                .contains("drift_policy_reloads_total{result=\"failure\"} 1.0")
                .contains("drift_image_index_images 3.0")
                .contains("drift_image_index_bytes 123456.0")
                .contains("drift_informer_synced 1.0")
                // the counting sink runs on the dispatcher, without a lane: no per-sink series of its own
                .doesNotContain("sink=\"metrics\"");
    }

    private String promtoolCheck(String exposition) throws IOException, InterruptedException {
        Path input = dir.resolve("metrics.txt");
        Files.writeString(input, exposition, StandardCharsets.UTF_8);
        Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics")
                .redirectInput(input.toFile()).redirectErrorStream(true).start();
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(promtool.exitValue()).as(output).isZero();
        return output.trim();
    }
}
