package io.driftagent.agent.pipeline.bench;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.pipeline.DriftPipeline;
import io.driftagent.agent.pipeline.MonotonicClock;
import io.driftagent.agent.pipeline.PipelineParts;
import io.driftagent.agent.pipeline.PipelineSettings;
import io.driftagent.agent.pipeline.ProcessSnapshot;
import io.driftagent.agent.pipeline.TimeOrderedIds;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** A pipeline over trivial in-memory components, for benchmarks: it measures the pipeline's own machinery. */
final class BenchPipelines {

    private BenchPipelines() {
    }

    /**
     * @param alert       true: every exec becomes an alert; false: the policy ignores every exec
     * @param leftPipeline incremented when an exec leaves the pipeline (published, or ignored by the policy)
     */
    static DriftPipeline start(boolean alert, AtomicLong leftPipeline) {
        ContainerContext container = new ContainerContext(new ContainerId("c0ffee"), ContainerRuntime.CONTAINERD,
                "/kubepods/pod1/c0ffee", "pod-uid", null);
        WorkloadMetadata metadata = new WorkloadMetadata("web-1", "shop", "pod-uid", Map.of("app", "web"), "nginx",
                "nginx:1.27", "sha256:abc");
        Verdict decided = alert
                ? new Verdict(Verdict.Decision.ALERT, "r", 1, false)
                : new Verdict(Verdict.Decision.IGNORE, "default", null, true);
        ProcessSnapshot process = new ProcessSnapshot("/tmp/x", List.of("/tmp/x", "-v"), "/bin/sh");
        Clock clock = Clock.systemUTC();
        DriftPipeline pipeline = new DriftPipeline(new PipelineParts(
                event -> Optional.of(container),
                event -> process,
                (event, c) -> new Classification(DriftKind.ADDED, event.filename(), null, null, null, null),
                id -> Optional.of(metadata),
                facts -> {
                    if (!alert) {
                        leftPipeline.incrementAndGet();
                    }
                    return decided;
                },
                new AlertAssembler(new DeploymentIdentity("node", "cluster", "azure", "sub"), clock,
                        new TimeOrderedIds(clock)),
                published -> {
                    leftPipeline.incrementAndGet();
                    return true;
                }),
                new PipelineSettings(8192, 1024, 1024, PipelineSettings.DEFAULT_RETRIES),
                new SimpleMeterRegistry(), MonotonicClock.SYSTEM);
        pipeline.start();
        return pipeline;
    }

    static ExecEvent[] events(int count) {
        ExecEvent[] events = new ExecEvent[count];
        for (int i = 0; i < count; i++) {
            events[i] = new ExecEvent(1000 + i, 1000 + i, 1, 0, 0, i, "x", "/tmp/x" + (i % 16),
                    new ExecEvent.FileId(1, i), ExecEvent.FileId.NONE, 7, 8, ExecEvent.Flags.NONE,
                    ExecEvent.SourceKind.EBPF, 0);
        }
        return events;
    }
}
