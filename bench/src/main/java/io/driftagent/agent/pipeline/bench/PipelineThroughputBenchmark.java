package io.driftagent.agent.pipeline.bench;

import io.driftagent.agent.pipeline.DriftPipeline;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import java.time.Duration;
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
        pipeline = BenchPipelines.start(verdict.equals("alert"), leftPipeline);
        sink = pipeline.sink();
        events = BenchPipelines.events(BATCH);
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
