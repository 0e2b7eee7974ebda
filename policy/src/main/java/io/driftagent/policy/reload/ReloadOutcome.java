package io.driftagent.policy.reload;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.load.Problem;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one reload did.
 *
 * @param applied  whether the new policy replaced the old one
 * @param active   the policy in force after the reload (the new one, or the last good one)
 * @param loadedAt when the active policy was loaded
 * @param problems every problem of the new file (warnings when applied; the errors that kept it out otherwise)
 */
public record ReloadOutcome(boolean applied, CompiledPolicy active, Instant loadedAt, List<Problem> problems) {
    public ReloadOutcome {
        Objects.requireNonNull(active, "active");
        Objects.requireNonNull(loadedAt, "loadedAt");
        problems = List.copyOf(problems);
    }
}
