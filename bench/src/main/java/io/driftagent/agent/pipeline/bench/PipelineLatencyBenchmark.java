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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One exec through an idle pipeline, from the source's offer to the alert's hand-off: six thread hand-offs, each
 * waking a parked stage thread. Sampled, so the percentiles show the tail.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PipelineLatencyBenchmark {

    private final AtomicLong leftPipeline = new AtomicLong();
    private DriftPipeline pipeline;
    private ExecEventSink sink;
    private ExecEvent event;

    @Setup(Level.Trial)
    public void start() {
        pipeline = BenchPipelines.start(true, leftPipeline);
        sink = pipeline.sink();
        event = BenchPipelines.events(1)[0];
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        pipeline.drainAndStop(Duration.ofSeconds(10));
    }

    @Benchmark
    public long oneExecToAlert() {
        long target = leftPipeline.get() + 1;
        if (!sink.offer(event)) {
            throw new IllegalStateException("an idle pipeline refused an exec");
        }
        while (leftPipeline.get() < target) {
            Thread.onSpinWait();
        }
        return target;
    }
}
