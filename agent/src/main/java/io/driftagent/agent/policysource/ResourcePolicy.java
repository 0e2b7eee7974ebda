package io.driftagent.agent.policysource;

import io.driftagent.policy.model.DriftPolicy;
import java.util.Objects;

/**
 * One valid DriftPolicy resource, ready to be merged.
 *
 * @param name              the resource's name (cluster-scoped: unique)
 * @param generation        its {@code metadata.generation}
 * @param priority          its {@code spec.priority}: the place of its rules in the merged policy
 * @param policy            its rules and default rule, validated by the policy loader
 * @param statesDefaultRule whether the spec has a {@code defaultRule} (otherwise it has no say on the default)
 */
public record ResourcePolicy(String name, long generation, int priority, DriftPolicy policy, boolean statesDefaultRule) {
    public ResourcePolicy {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(policy, "policy");
    }
}
