package io.driftagent.agent.pipeline.bench;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.pipeline.ProcessSnapshot;
import io.driftagent.agent.pipeline.TimeOrderedIds;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The cost of building the policy facts and the alert of one drifted exec (labels copied, id and time taken). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AlertAssemblyBenchmark {

    private final Clock clock = Clock.systemUTC();
    private final AlertAssembler assembler =
            new AlertAssembler(new DeploymentIdentity("aks-node-0", "prod-eu", "azure", "sub-1"), clock, new TimeOrderedIds(clock));
    private final ExecEvent event = new ExecEvent(4321, 4321, 4000, 1000, 1000, 99, "xmrig", "/tmp/xmrig",
            new ExecEvent.FileId(64, 99), ExecEvent.FileId.NONE, 7, 8, new ExecEvent.Flags(true, true, false, false),
            ExecEvent.SourceKind.EBPF, 0);
    private final ProcessSnapshot process = new ProcessSnapshot("/tmp/xmrig", List.of("/tmp/xmrig", "--donate-level", "1"), "/bin/sh");
    private final ContainerContext container = new ContainerContext(
            new ContainerId("3f4e1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"), ContainerRuntime.CONTAINERD,
            "/kubepods/besteffort/podx/3f4e", "6d1c7a52-7c1e-4f0e-9d7e-1b2c3d4e5f60", null);
    private final WorkloadMetadata metadata = new WorkloadMetadata("web-7d9f", "shop", "6d1c7a52-7c1e-4f0e-9d7e-1b2c3d4e5f60",
            Map.of("app", "web", "tier", "front", "team", "payments", "version", "1.4.2"), "nginx",
            "registry.example/nginx:1.27", "sha256:" + "ab".repeat(32));
    private final Classification classification =
            new Classification(DriftKind.ADDED, "/tmp/xmrig", "cd".repeat(32), null, null, null);
    private final Verdict verdict = new Verdict(Verdict.Decision.ALERT, "crypto-miners", 10, false);

    @Benchmark
    public DriftFacts facts() {
        return assembler.facts(metadata, classification);
    }

    @Benchmark
    public Alert alert() {
        return assembler.alert(event, process, container, metadata, classification, verdict, false);
    }
}
