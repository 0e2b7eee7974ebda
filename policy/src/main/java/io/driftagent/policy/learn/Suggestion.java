package io.driftagent.policy.learn;

import io.driftagent.policy.model.DriftPolicy;
import java.util.List;
import java.util.Objects;

/**
 * A suggested policy and what it is made of.
 *
 * @param policy      the current rules plus the learned ones
 * @param yaml        the policy file text (with comments); loads without problems
 * @param learned     the rules added, in evaluation order
 * @param renumbered  whether the current rules had to get new priorities to make room (their order is kept)
 * @param counts      how the recorded alerts were used
 * @param collateral  recorded alerts outside the scope asked for whose verdict the suggestion changes (normally
 *                    none; see {@link PolicySuggester})
 * @param warnings    the loader's warnings about the suggested policy (only ones the current policy already had:
 *                    a rule shadowed by a catch-all)
 */
public record Suggestion(DriftPolicy policy, String yaml, List<LearnedRule> learned, boolean renumbered,
                         Counts counts, List<RecordedAlert> collateral, List<String> warnings) {
    public Suggestion {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(yaml, "yaml");
        learned = List.copyOf(learned);
        Objects.requireNonNull(counts, "counts");
        collateral = List.copyOf(collateral);
        warnings = List.copyOf(warnings);
    }

    /**
     * Recorded alert lines by what became of them.
     *
     * @param silenced      in scope, now on a learned rule's allow list
     * @param outOfScope    not in the namespaces / workloads / kinds asked for
     * @param alreadySilent in scope, but the current policy already ignores or allows them
     * @param unscoped      in scope, but the alert names no namespace, workload label or image: never silenced by a
     *                      blanket rule (their line numbers)
     * @param unmatchable   in scope, but neither an absolute path nor a sha256 identifies the file (their line numbers)
     */
    public record Counts(long silenced, long outOfScope, long alreadySilent, List<Long> unscoped, List<Long> unmatchable) {
        public Counts {
            unscoped = List.copyOf(unscoped);
            unmatchable = List.copyOf(unmatchable);
        }
    }
}
