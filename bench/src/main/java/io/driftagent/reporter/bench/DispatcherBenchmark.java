package io.driftagent.reporter.bench;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.dispatch.AlertDispatcher;
import io.driftagent.reporter.dispatch.AlertSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The dispatcher with two no-op sinks: {@code submit} is what the detection path pays per alert (non-blocking, may
 * drop when the worker is behind); {@code deliverBatch} is end-to-end: 1000 alerts until both sinks have them all.
 */
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DispatcherBenchmark {

    private static final int BATCH = 1000;

    private static final class CountingSink implements AlertSink {
        final AtomicLong seen = new AtomicLong();
        final String name;

        CountingSink(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void publish(Alert alert) {
            seen.incrementAndGet();
        }
    }

    private final Alert alert = SampleAlerts.full();
    private CountingSink first;
    private CountingSink second;
    private AlertDispatcher dispatcher;
    private SimpleMeterRegistry registry;

    @Setup(Level.Iteration)
    public void start() {
        first = new CountingSink("a");
        second = new CountingSink("b");
        registry = new SimpleMeterRegistry();
        dispatcher = new AlertDispatcher(List.of(first, second), 4096, Duration.ofSeconds(1), registry,
                Clock.systemUTC());
    }

    @TearDown(Level.Iteration)
    public void stop() {
        dispatcher.close(Duration.ofSeconds(5));
        double dropped = registry.get("drift.alerts.dropped").tag("reason", "queue_full").counter().count();
        System.out.printf("%n[dispatcher] delivered to each sink: %d, dropped at a full queue: %.0f%n",
                second.seen.get(), dropped);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public boolean submit() {
        return dispatcher.submit(alert);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(BATCH)
    public long deliverBatch() {
        long target = second.seen.get() + BATCH;
        long targetFirst = first.seen.get() + BATCH;
        for (int i = 0; i < BATCH; i++) {
            while (!dispatcher.submit(alert)) {
                Thread.onSpinWait();
            }
        }
        while (second.seen.get() < target || first.seen.get() < targetFirst) {
            Thread.onSpinWait();
        }
        return second.seen.get();
    }
}
