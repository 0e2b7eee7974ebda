package io.driftagent.policy.bench;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.load.PolicyLoader;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;

/**
 * The two policy benchmarks measured in thread CPU time as well as wall time. On a shared, oversubscribed machine
 * wall time includes the time this thread waited for a core; CPU time does not. Run next to JMH, not instead of it:
 * {@code java -cp <test classpath> io.driftagent.policy.bench.CpuTimeCheck}.
 */
public final class CpuTimeCheck {
    private CpuTimeCheck() {
    }

    public static void main(String[] args) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        PolicyLoader loader = new PolicyLoader();
        DriftFacts facts = BenchmarkPolicies.matchingExec();
        long sink = 0;
        for (int round = 0; round < 10; round++) {
            BenchmarkPolicies.Shape shape = BenchmarkPolicies.Shape.values()[round % 2];
            CompiledPolicy policy = loader.load("bench.yaml", BenchmarkPolicies.policy(200, shape)
                    .getBytes(StandardCharsets.UTF_8)).policy().orElseThrow();
            int n = 2_000_000;
            long cpu = threads.getCurrentThreadCpuTime();
            long wall = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += policy.evaluate(facts).ruleName().length();
            }
            System.out.printf("evaluate, 200 %s rules, last matches: %.1f ns/op CPU, %.1f ns/op wall%n", shape,
                    (threads.getCurrentThreadCpuTime() - cpu) / (double) n, (System.nanoTime() - wall) / (double) n);
        }
        byte[] content = BenchmarkPolicies.policy(1000).getBytes(StandardCharsets.UTF_8);
        for (int round = 0; round < 8; round++) {
            long cpu = threads.getCurrentThreadCpuTime();
            long wall = System.nanoTime();
            sink += loader.load("bench.yaml", content).policy().orElseThrow().rules().size();
            System.out.printf("load + compile, 1000 rules: %.1f ms CPU, %.1f ms wall%n",
                    (threads.getCurrentThreadCpuTime() - cpu) / 1e6, (System.nanoTime() - wall) / 1e6);
        }
        System.out.println("(checksum " + sink + ")");
    }
}
