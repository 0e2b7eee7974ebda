package io.driftagent.agent.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.http.AgentHttpServer;
import io.driftagent.agent.http.Readiness;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.pipeline.DriftPipeline;
import io.driftagent.agent.pipeline.MonotonicClock;
import io.driftagent.agent.pipeline.PipelineParts;
import io.driftagent.agent.pipeline.PipelineSettings;
import io.driftagent.agent.pipeline.ProcessInspector;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.SourceUnavailableException;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class AgentRuntimeTest {

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<Alert> published = new CopyOnWriteArrayList<>();

    /** Components whose pipeline alerts on every exec, with fake parts; the log records start and stop order. */
    static AgentComponents components(List<String> log, List<Alert> published, FakeExecSource source, int httpPort) {
        Readiness readiness = new Readiness();
        AgentHttpServer http = new AgentHttpServer("127.0.0.1", httpPort, readiness, () -> "");
        ContainerContext container = new ContainerContext(new ContainerId("sandbox"), ContainerRuntime.CONTAINERD,
                "/default/sandbox", null, null);
        DriftPipeline pipeline = new DriftPipeline(new PipelineParts(
                event -> Optional.of(container),
                ProcessInspector.NONE,
                (event, c) -> new Classification(DriftKind.ADDED, event.filename(), null, null, null, null),
                id -> Optional.empty(),
                facts -> new Verdict(Verdict.Decision.ALERT, "r", 1, false),
                new AlertAssembler(new DeploymentIdentity("node", null, null, null), Clock.systemUTC(), () -> "id"),
                alert -> published.add(alert)),
                new PipelineSettings(64, 64, 64, List.of(Duration.ofMinutes(5))),
                new SimpleMeterRegistry(), MonotonicClock.SYSTEM);
        List<ManagedService> services = List.of(
                ManagedService.of("reporter", () -> log.add("start reporter"), () -> log.add("close reporter")),
                ManagedService.of("informer", () -> log.add("start informer"), () -> log.add("close informer")));
        return new AgentComponents(http, readiness, services, pipeline, source);
    }

    static ExecEvent exec(String filename) {
        return new ExecEvent(4321, 4321, 1, 0, 0, 1L, "sh", filename, new ExecEvent.FileId(1, 2),
                ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.FANOTIFY, System.nanoTime());
    }

    @Test
    void startsInOrderAndStopsSourceFirstThenDrainsThenServices() throws Exception {
        FakeExecSource source = new FakeExecSource(log, null);
        AgentComponents components = components(log, published, source, 0);
        AgentRuntime runtime = new AgentRuntime(components, Duration.ofSeconds(5));

        runtime.start();
        source.emit(exec("/tmp/parked-until-shutdown"));
        runtime.stop();

        assertThat(log).containsExactly("start reporter", "start informer", "start source",
                "close source", "close informer", "close reporter");
        assertThat(published).extracting(a -> a.drift().path())
                .as("the exec parked for metadata was released by the drain, before the reporter closed")
                .containsExactly("/tmp/parked-until-shutdown");
        assertThat(runtime.isStopped()).isTrue();
    }

    @Test
    void theSourceReadinessCheckPassesOnlyWhileTheSourceIsAttached() throws Exception {
        FakeExecSource source = new FakeExecSource(log, null);
        AgentComponents components = components(log, published, source, 0);
        AgentRuntime runtime = new AgentRuntime(components, Duration.ofSeconds(5));
        assertThat(sourceCheck(components)).isEqualTo(ReadinessCheck.Result.failing("not attached yet"));

        runtime.start();
        assertThat(sourceCheck(components).ready()).isTrue();

        runtime.stop();
        assertThat(sourceCheck(components)).isEqualTo(ReadinessCheck.Result.failing("shutting down"));
    }

    @Test
    void thePipelineReadinessCheckNamesStagesThatAreNotRunning() throws Exception {
        FakeExecSource source = new FakeExecSource(log, null);
        AgentComponents components = components(log, published, source, 0);
        AgentRuntime runtime = new AgentRuntime(components, Duration.ofSeconds(5));
        assertThat(check(components, AgentRuntime.PIPELINE_CHECK).reason())
                .isEqualTo("stages not running: attribute, classify, enrich, policy, act, report");

        runtime.start();
        assertThat(check(components, AgentRuntime.PIPELINE_CHECK).ready()).isTrue();

        runtime.stop();
        assertThat(check(components, AgentRuntime.PIPELINE_CHECK).ready()).isFalse();
    }

    @Test
    void aSourceThatCannotAttachStopsWhatStartedAndFailsTheStart() {
        FakeExecSource source = new FakeExecSource(log, "fanotify_init: EPERM");
        AgentComponents components = components(log, published, source, 0);
        AgentRuntime runtime = new AgentRuntime(components, Duration.ofSeconds(5));

        assertThatThrownBy(runtime::start).isInstanceOf(SourceUnavailableException.class)
                .hasMessage("fanotify_init: EPERM");

        assertThat(log).containsExactly("start reporter", "start informer", "start source",
                "close informer", "close reporter");
        assertThat(runtime.isStopped()).isTrue();
        assertThatThrownBy(components.http()::port).isInstanceOf(IllegalStateException.class);
        assertThat(sourceCheck(components).reason()).isEqualTo("start-up failed: fanotify_init: EPERM");
    }

    @Test
    void stoppingTwiceIsHarmless() throws Exception {
        FakeExecSource source = new FakeExecSource(log, null);
        AgentRuntime runtime = new AgentRuntime(components(log, published, source, 0), Duration.ofSeconds(5));
        runtime.start();

        runtime.stop();
        runtime.stop();

        assertThat(log).filteredOn(line -> line.startsWith("close")).hasSize(3);
    }

    private static ReadinessCheck.Result sourceCheck(AgentComponents components) {
        return check(components, AgentRuntime.SOURCE_CHECK);
    }

    private static ReadinessCheck.Result check(AgentComponents components, String name) {
        return components.readiness().evaluate().stream()
                .filter(o -> o.name().equals(name)).findFirst().orElseThrow().result();
    }
}
