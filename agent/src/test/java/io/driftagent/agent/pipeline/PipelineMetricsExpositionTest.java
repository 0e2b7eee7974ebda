package io.driftagent.agent.pipeline;

import static io.driftagent.agent.pipeline.PipelineFakes.CONTAINER;
import static io.driftagent.agent.pipeline.PipelineFakes.alertAll;
import static io.driftagent.agent.pipeline.PipelineFakes.attributor;
import static io.driftagent.agent.pipeline.PipelineFakes.classifier;
import static io.driftagent.agent.pipeline.PipelineFakes.exec;
import static io.driftagent.agent.pipeline.PipelineFakes.metadata;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.pipeline.PipelineFakes.FakeMetadata;
import io.driftagent.agent.pipeline.PipelineFakes.RecordingPublisher;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag(TestTiers.CONTAINERS)
class PipelineMetricsExpositionTest {

    @TempDir
    Path dir;

    @Test
    void thePipelinesMetricsAreValidPrometheusExpositionWithTheDocumentedNames() throws Exception {
        // given the pipeline at its default settings, one drifted exec through it
        String text = scrapeAfterOneExec(PipelineSettings.defaults());

        // then the documented names are there; stage latencies are a count and a sum, no buckets
        assertThat(text).contains("drift_stage_latency_seconds_count{stage=\"attribute\"} 1")
                .contains("drift_stage_latency_seconds_sum{stage=\"report\"}")
                .doesNotContain("drift_stage_latency_seconds_bucket")
                .contains("drift_exec_to_alert_latency_seconds_count 1")
                .contains("drift_exec_to_alert_latency_seconds_bucket{le=\"0.01\"}")
                .contains("drift_pipeline_queue_depth{stage=\"enrich\"}")
                .contains("drift_pipeline_process_snapshots_total{when=\"attribution\"} 1.0")
                .contains("drift_pipeline_dropped_total{reason=\"queue_full\",stage=\"attribute\"}")
                .contains("drift_verdicts_total{action=\"alert\",kind=\"ADDED\"} 1.0")
                .contains("drift_pipeline_late_metadata_total{outcome=\"gave_up\"}")
                .contains("drift_pipeline_stopped_early_total{reason=\"image_file\"}")
                .contains("drift_pipeline_published_total{outcome=\"accepted\"} 1.0");
        assertPromtoolAccepts(text);
    }

    @Test
    void withStageHistogramsEachStagesLatencyIsAHistogram() throws Exception {
        // given the pipeline with per-stage histograms opted in, one drifted exec through it
        PipelineSettings defaults = PipelineSettings.defaults();
        String text = scrapeAfterOneExec(new PipelineSettings(defaults.sourceQueueCapacity(),
                defaults.stageQueueCapacity(), defaults.parkingCapacity(), defaults.metadataRetries(), true));

        // then every stage has buckets, and the exposition is still valid
        assertThat(text).contains("drift_stage_latency_seconds_bucket{stage=\"attribute\",le=\"+Inf\"} 1")
                .contains("drift_stage_latency_seconds_bucket{stage=\"report\",le=\"+Inf\"} 1")
                .contains("drift_stage_latency_seconds_count{stage=\"policy\"} 1");
        assertPromtoolAccepts(text);
    }

    private static String scrapeAfterOneExec(PipelineSettings settings) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FakeMetadata metadata = new FakeMetadata();
        metadata.known.put(CONTAINER, metadata());
        RecordingPublisher publisher = new RecordingPublisher();
        DriftPipeline pipeline = new DriftPipeline(new PipelineParts(attributor(), ProcessInspector.NONE, classifier(),
                metadata, alertAll(), new AlertAssembler(new DeploymentIdentity("n", null, null, null),
                Clock.systemUTC(), () -> "id"), publisher), settings, registry, MonotonicClock.SYSTEM);
        pipeline.start();
        pipeline.sink().offer(exec(4321, "/tmp/x", System.nanoTime()));
        publisher.next(Duration.ofSeconds(5));
        pipeline.drainAndStop(Duration.ofSeconds(5));
        return registry.scrape();
    }

    private void assertPromtoolAccepts(String text) throws Exception {
        File promtool = new File("/usr/bin/promtool");
        Assumptions.assumeTrue(promtool.canExecute(), "promtool (Debian package prometheus, installed by host-setup.sh) is absent");
        Path scraped = Files.writeString(dir.resolve("metrics.txt"), text);
        Process check = new ProcessBuilder(promtool.getPath(), "check", "metrics")
                .redirectInput(scraped.toFile()).redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(check.exitValue()).as(output).isZero();
    }
}
