package io.driftagent.agent.policysource;

import io.driftagent.policy.load.Problem;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What reading one version of a DriftPolicy resource gave.
 *
 * @param policy   present if and only if no problem is an error
 * @param problems every problem, paths in the resource ({@code spec.rules[0].action})
 */
public record ResourceValidation(String name, long generation, Optional<ResourcePolicy> policy, List<Problem> problems) {
    public ResourceValidation {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(policy, "policy");
        problems = List.copyOf(problems);
        if (policy.isPresent() == problems.stream().anyMatch(Problem::isError)) {
            throw new IllegalArgumentException("a policy is present if and only if there are no errors");
        }
    }

    public boolean valid() {
        return policy.isPresent();
    }

    public List<Problem> errors() {
        return problems.stream().filter(Problem::isError).toList();
    }
}
