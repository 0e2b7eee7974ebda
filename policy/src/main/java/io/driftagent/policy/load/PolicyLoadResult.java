package io.driftagent.policy.load;

import io.driftagent.policy.eval.CompiledPolicy;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What loading one policy file produced.
 *
 * @param policy   the compiled policy, present if and only if there is no ERROR problem
 * @param problems every problem found, in file order (errors and warnings)
 */
public record PolicyLoadResult(Optional<CompiledPolicy> policy, List<Problem> problems) {
    public PolicyLoadResult {
        Objects.requireNonNull(policy, "policy");
        problems = List.copyOf(problems);
        boolean hasErrors = problems.stream().anyMatch(Problem::isError);
        if (policy.isPresent() == hasErrors) {
            throw new IllegalArgumentException("a policy is present if and only if there are no errors");
        }
    }

    public boolean isValid() {
        return policy.isPresent();
    }

    public List<Problem> errors() {
        return problems.stream().filter(Problem::isError).toList();
    }

    public List<Problem> warnings() {
        return problems.stream().filter(p -> !p.isError()).toList();
    }
}
