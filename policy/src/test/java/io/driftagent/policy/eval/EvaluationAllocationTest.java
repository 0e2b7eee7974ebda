package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.bench.BenchmarkPolicies;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The hot path allocates nothing: measured with the JVM's per-thread allocation counter, no JIT help needed. */
class EvaluationAllocationTest {

    @Test
    void evaluatingA200RulePolicyAllocatesNothing() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "needs HotSpot's per-thread allocation counter");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "per-thread allocation accounting is off in this JVM");
        // given the benchmark policy, and one warm-up pass (thread-local matcher buffers are created once per thread)
        CompiledPolicy policy = PolicyYaml.compile(BenchmarkPolicies.policy(200));
        DriftFacts facts = BenchmarkPolicies.matchingExec();
        Verdict expected = policy.evaluate(facts);
        long thread = Thread.currentThread().getId();
        // when
        int rounds = 100_000;
        long before = threads.getThreadAllocatedBytes(thread);
        int sameVerdict = 0;
        for (int i = 0; i < rounds; i++) {
            if (policy.evaluate(facts) == expected) {
                sameVerdict++;
            }
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        // then: under one byte per call on average, where a single object per call would be at least 16 bytes
        // (the counter itself shows a few kilobytes of one-off noise)
        assertThat(sameVerdict).isEqualTo(rounds);
        assertThat(expected.ruleName()).isEqualTo("last");
        assertThat(allocated).as("bytes allocated over %d evaluations", rounds).isLessThan(rounds);
    }
}
