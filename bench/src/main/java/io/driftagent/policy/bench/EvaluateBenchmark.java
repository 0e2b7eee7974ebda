package io.driftagent.policy.bench;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.load.PolicyLoader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** One evaluation against a 200-rule policy whose only applicable rule is the last. Target: under 1 us, 0 B/op. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EvaluateBenchmark {
    /** MIXED: six rule shapes (equals, labels, prefix, cloud + glob, kinds + regex, ignoreCase suffix); NAMESPACE_EQUALS. */
    @Param({"MIXED", "NAMESPACE_EQUALS"})
    public BenchmarkPolicies.Shape shape;

    private CompiledPolicy policy;
    private DriftFacts facts;

    @Setup
    public void setUp() {
        policy = new PolicyLoader().load("bench.yaml", BenchmarkPolicies.policy(200, shape).getBytes(StandardCharsets.UTF_8))
                .policy().orElseThrow();
        facts = BenchmarkPolicies.matchingExec();
        if (!policy.evaluate(facts).ruleName().equals("last")) {
            throw new IllegalStateException("the benchmark policy must be decided by its last rule");
        }
    }

    @Benchmark
    public Verdict evaluate200RulesLastMatches() {
        return policy.evaluate(facts);
    }
}
