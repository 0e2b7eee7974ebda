package io.driftagent.agent.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.pipeline.AlertPublisher;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.learn.Suggestion;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnSessionTest {
    private static final DriftPolicy ALERT_EVERYTHING = new DriftPolicy(List.of(), Action.ALERT);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-27T10:00:00Z"));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Alert> emitted = new ArrayList<>();
    private final AlertPublisher sink = alert -> emitted.add(alert);
    private int ids;

    private Alert alert(String namespace, String app, String path, String action) {
        return AlertLines.alert(clock.instant(), "id-" + (++ids), namespace, app, app, "ADDED", path, null, action,
                "default", null);
    }

    private double learned(String outcome) {
        return registry.get("drift.learn.alerts").tag("outcome", outcome).counter().count();
    }

    @Test
    void learnedWorkloadsAlertsAreKeptAsideUntilThePeriodEndsThenASuggestedPolicyIsWritten() throws Exception {
        // given learn mode for namespace shop for one hour
        Path learnFile = dir.resolve("learn.jsonl");
        Path suggested = dir.resolve("suggested.yaml");
        LearnSession session = new LearnSession(new AgentConfig.Learn(Set.of("shop"), Set.of(), Duration.ofHours(1),
                learnFile, suggested), () -> ALERT_EVERYTHING, clock, registry);
        AlertPublisher publisher = session.publisherOver(sink);
        session.startClock();

        // when shop's web workload drifts twice, ops drifts once and shop's api has an exec blocked
        assertThat(publisher.publish(alert("shop", "web", "/usr/local/bin/updater", "alert"))).isTrue();
        clock.advance(Duration.ofMinutes(10));
        assertThat(publisher.publish(alert("shop", "web", "/usr/local/bin/updater", "alert"))).isTrue();
        assertThat(publisher.publish(alert("ops", "web", "/usr/local/bin/updater", "alert"))).isTrue();
        assertThat(publisher.publish(alert("shop", "api", "/tmp/dropped", "block"))).isTrue();

        // then shop's alerts are in the learn file, not emitted; ops' and the blocked one are emitted
        assertThat(emitted).extracting(a -> a.pod().namespace() + " " + a.drift().path())
                .containsExactly("ops /usr/local/bin/updater", "shop /tmp/dropped");
        AlertLog kept = new AlertLogReader().read(learnFile);
        assertThat(kept.malformed()).isEmpty();
        assertThat(kept.alerts()).extracting(a -> a.facts().path())
                .containsExactly("/usr/local/bin/updater", "/usr/local/bin/updater", "/tmp/dropped");
        assertThat(learned("kept")).isEqualTo(2);
        assertThat(learned("copied")).isEqualTo(1);
        assertThat(registry.get("drift.learn.active").gauge().value()).isEqualTo(1);
        // and before the hour is over no suggestion is written
        assertThat(session.finishIfDue()).isEmpty();
        assertThat(suggested).doesNotExist();

        // when the hour is over
        clock.advance(Duration.ofMinutes(50));
        Optional<Suggestion> suggestion = session.finishIfDue();

        // then a suggested policy is written that loads without problems and allows what was learned, only for it
        assertThat(suggestion).isPresent();
        assertThat(session.finishIfDue()).isEmpty();
        PolicyLoadResult loaded = new PolicyLoader().load(suggested);
        assertThat(loaded.problems()).isEmpty();
        CompiledPolicy policy = loaded.policy().orElseThrow();
        assertThat(policy.evaluate(facts("shop", "web", "/usr/local/bin/updater")).decision()).isEqualTo(Verdict.Decision.ALLOWED);
        assertThat(policy.evaluate(facts("shop", "web", "/tmp/miner")).decision()).isEqualTo(Verdict.Decision.ALERT);
        assertThat(policy.evaluate(facts("ops", "web", "/usr/local/bin/updater")).decision()).isEqualTo(Verdict.Decision.ALERT);
        assertThat(Files.readString(suggested)).contains("# silences 2 alerts (2 execs): /usr/local/bin/updater;"
                + " first seen 2026-11-27T10:00:00Z, last seen 2026-11-27T10:10:00Z");
        // and alerts flow as usual again
        assertThat(publisher.publish(alert("shop", "web", "/usr/local/bin/updater", "alert"))).isTrue();
        assertThat(emitted).hasSize(3);
        assertThat(learned("kept")).isEqualTo(2);
        assertThat(registry.get("drift.learn.active").gauge().value()).isZero();
    }

    @Test
    void anAlertTheLearnFileCannotTakeIsEmittedAndCounted() {
        // given a learn file path that is a directory
        LearnSession session = new LearnSession(new AgentConfig.Learn(Set.of(), Set.of("web"), Duration.ofHours(1),
                dir, dir.resolve("suggested.yaml")), () -> ALERT_EVERYTHING, clock, registry);
        AlertPublisher publisher = session.publisherOver(sink);
        session.startClock();

        publisher.publish(alert("shop", "web", "/usr/local/bin/updater", "alert"));

        assertThat(emitted).hasSize(1);
        assertThat(learned("failed")).isEqualTo(1);
        assertThat(learned("kept")).isZero();
    }

    private static DriftFacts facts(String namespace, String app, String path) {
        return new DriftFacts("azure", "sub-1", "prod", namespace, app + "-7d9f", Map.of("app", app, "pod-template-hash", "7d9f"),
                app, "registry.example/" + app + ":1.0", DriftKind.ADDED, path, null);
    }
}
