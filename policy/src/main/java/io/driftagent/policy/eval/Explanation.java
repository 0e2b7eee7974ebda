package io.driftagent.policy.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Why a policy gave its verdict: every rule that was tried before the deciding one with the check that failed,
 * then the deciding rule (or the default rule) with why it applied and whether the allow list held the file.
 *
 * @param verdict       the same verdict {@link CompiledPolicy#evaluate} returns for the same facts
 * @param decidingRule  the rule that decided; empty when the default rule decided
 * @param skipped       the rules tried before the deciding one, in evaluation order
 * @param decision      why the deciding rule (or the default rule) decided as it did
 */
public record Explanation(Verdict verdict, Optional<CompiledRule> decidingRule, List<SkippedRule> skipped,
                          String decision) {

    public Explanation {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(decidingRule, "decidingRule");
        skipped = List.copyOf(skipped);
        Objects.requireNonNull(decision, "decision");
    }

    /** A rule that did not apply, with the first of its checks that failed. */
    public record SkippedRule(String name, int priority, String failedCheck) {
        public SkippedRule {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(failedCheck, "failedCheck");
        }

        @Override
        public String toString() {
            return "rule '" + name + "' (priority " + priority + ") skipped: " + failedCheck;
        }
    }

    /** One human-readable line per skipped rule, then the decision. */
    public List<String> reasons() {
        List<String> reasons = new ArrayList<>(skipped.size() + 1);
        for (SkippedRule rule : skipped) {
            reasons.add(rule.toString());
        }
        reasons.add(decision);
        return List.copyOf(reasons);
    }
}
