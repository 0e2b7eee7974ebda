package io.driftagent.agent.pipeline.bench;

import io.driftagent.agent.classify.Classification;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.pipeline.DriftPipeline;
import io.driftagent.agent.pipeline.MonotonicClock;
import io.driftagent.agent.pipeline.PipelineParts;
import io.driftagent.agent.pipeline.PipelineSettings;
import io.driftagent.agent.pipeline.ProcessInspector;
import io.driftagent.agent.pipeline.ProcessSnapshot;
import io.driftagent.agent.pipeline.TimeOrderedIds;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.proc.ContainerId;
import io.driftagent.agent.proc.ContainerRuntime;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * End-to-end throughput of the six stages with trivial components: what the pipeline's own machinery (queues,
 * hand-offs, metrics, facts and alert assembly) costs per exec. One invocation offers a batch of execs from the
 * benchmark thread (as a source's reader thread would, retrying when the first queue is full) and waits until the
 * last one has left the pipeline.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PipelineThroughputBenchmark {

    private static final int BATCH = 1000;

    /** alert: every exec becomes an alert; ignore: the policy ignores all, nothing is assembled or published. */
    @Param({"alert", "ignore"})
    public String verdict;

    private final AtomicLong leftPipeline = new AtomicLong();
    private DriftPipeline pipeline;
    private ExecEventSink sink;
    private ExecEvent[] events;

    @Setup(Level.Trial)
    public void start() {
        ContainerContext container = new ContainerContext(new ContainerId("c0ffee"), ContainerRuntime.CONTAINERD,
                "/kubepods/pod1/c0ffee", "pod-uid", null);
        WorkloadMetadata metadata = new WorkloadMetadata("web-1", "shop", "pod-uid", Map.of("app", "web"), "nginx",
                "nginx:1.27", "sha256:abc");
        Verdict decided = verdict.equals("alert")
                ? new Verdict(Verdict.Decision.ALERT, "r", 1, false)
                : new Verdict(Verdict.Decision.IGNORE, "default", null, true);
        ProcessSnapshot process = new ProcessSnapshot("/tmp/x", List.of("/tmp/x", "-v"), "/bin/sh");
        ProcessInspector inspector = event -> process;
        Clock clock = Clock.systemUTC();
        pipeline = new DriftPipeline(new PipelineParts(
                event -> Optional.of(container),
                inspector,
                (event, c) -> new Classification(DriftKind.ADDED, event.filename(), null, null, null, null),
                id -> Optional.of(metadata),
                facts -> {
                    if (decided.decision() == Verdict.Decision.IGNORE) {
                        leftPipeline.incrementAndGet();
                    }
                    return decided;
                },
                new AlertAssembler(new DeploymentIdentity("node", "cluster", "azure", "sub"), clock,
                        new TimeOrderedIds(clock)),
                alert -> {
                    leftPipeline.incrementAndGet();
                    return true;
                }),
                new PipelineSettings(8192, 1024, 1024, PipelineSettings.DEFAULT_RETRIES),
                new SimpleMeterRegistry(), MonotonicClock.SYSTEM);
        pipeline.start();
        sink = pipeline.sink();
        events = new ExecEvent[BATCH];
        for (int i = 0; i < BATCH; i++) {
            events[i] = new ExecEvent(1000 + i, 1000 + i, 1, 0, 0, i, "x", "/tmp/x" + (i % 16),
                    new ExecEvent.FileId(1, i), ExecEvent.FileId.NONE, 7, 8, ExecEvent.Flags.NONE,
                    ExecEvent.SourceKind.EBPF, 0);
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        pipeline.drainAndStop(Duration.ofSeconds(10));
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long execsThroughAllStages() {
        long target = leftPipeline.get() + BATCH;
        for (ExecEvent event : events) {
            while (!sink.offer(event)) {
                Thread.onSpinWait();
            }
        }
        while (leftPipeline.get() < target) {
            Thread.onSpinWait();
        }
        return target;
    }
}
