package io.driftagent.policy.bench;

import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Reading, validating and compiling a 1,000-rule policy from bytes. Target: under 200 ms. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LoadBenchmark {
    private final PolicyLoader loader = new PolicyLoader();
    private byte[] content;

    @Setup
    public void setUp() {
        content = BenchmarkPolicies.policy(1000).getBytes(StandardCharsets.UTF_8);
        if (!loader.load("bench.yaml", content).isValid()) {
            throw new IllegalStateException("the benchmark policy must be valid");
        }
    }

    @Benchmark
    public PolicyLoadResult loadAndCompile1000Rules() {
        return loader.load("bench.yaml", content);
    }
}
