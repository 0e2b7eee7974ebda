package io.driftagent.agent.pipeline;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;

/**
 * Decides what to do with one drifted exec. The integrator adapts the policy engine, e.g.
 * {@code facts -> policyHolder.current().evaluate(facts)}. Called on the policy stage's thread only; must not block
 * on I/O.
 */
@FunctionalInterface
public interface PolicyEvaluator {
    Verdict evaluate(DriftFacts facts);
}
