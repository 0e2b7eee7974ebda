package io.driftagent.agent.assembly;

import io.driftagent.agent.policywatch.PolicyReloader;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.reload.PolicyHolder;
import io.driftagent.policy.reload.ReloadOutcome;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * Adapts the policy holder to the file watcher: a rejected file keeps the last good policy and says why. The watcher
 * counts reloads ({@code drift.policy.reloads{outcome}}).
 */
final class HolderReloader implements PolicyReloader {

    private final PolicyHolder holder;

    HolderReloader(PolicyHolder holder) {
        this.holder = holder;
    }

    @Override
    public boolean reload(Path policyFile, byte[] content) throws PolicyRejectedException {
        ReloadOutcome outcome = holder.reload(policyFile.toString(), content);
        if (outcome.applied()) {
            return true;
        }
        throw new PolicyRejectedException(outcome.problems().stream()
                .map(Problem::toString).collect(Collectors.joining("; ")));
    }

    /** The new policy file was invalid; the message lists its problems. */
    static final class PolicyRejectedException extends Exception {
        private static final long serialVersionUID = 1L;

        PolicyRejectedException(String problems) {
            super("policy rejected, keeping the last good one: " + problems);
        }
    }
}
