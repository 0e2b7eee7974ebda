package io.driftagent.agent.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

class PipelineMetricsFirstUseTest {

    @Test
    void noVerdictOrStageErrorSeriesExistsBeforeItsFirstIncrement() {
        // given the pipeline's meters on a fresh registry
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PipelineMetrics metrics = new PipelineMetrics(registry);
        FirstUseCounter errors = metrics.stageErrors("enrich");

        // when nothing happened yet
        String exposition = registry.scrape();

        // then neither the 4 x 5 (kind, action) combinations nor the stage's failures are series yet
        assertThat(exposition).doesNotContain("drift_verdicts_total").doesNotContain("drift_pipeline_errors_total");
        assertThat(errors.count()).isZero();
    }

    @Test
    void aVerdictSeriesAppearsAtItsFirstVerdictAndCountsEveryOne() {
        // given
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        PipelineMetrics metrics = new PipelineMetrics(registry);

        // when two ADDED execs are alerted and one stage fails once
        metrics.verdict(DriftKind.ADDED, Verdict.Decision.ALERT).increment();
        metrics.verdict(DriftKind.ADDED, Verdict.Decision.ALERT).increment();
        metrics.stageErrors("enrich").increment();

        // then exactly those series exist, with their counts
        String exposition = registry.scrape();
        assertThat(exposition).contains("drift_verdicts_total{action=\"alert\",kind=\"ADDED\"} 2.0")
                .contains("drift_pipeline_errors_total{stage=\"enrich\"} 1.0");
        assertThat(exposition.lines().filter(line -> line.startsWith("drift_verdicts_total{"))).hasSize(1);
    }
}
