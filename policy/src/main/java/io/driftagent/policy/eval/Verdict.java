package io.driftagent.policy.eval;

import java.util.Objects;

/**
 * The outcome of evaluating a policy for one drifted exec.
 *
 * @param decision     what to do
 * @param ruleName     the deciding rule's name ("default" for the default rule)
 * @param rulePriority the deciding rule's priority, null for the default rule
 * @param defaultRule  whether the default rule decided
 */
public record Verdict(Decision decision, String ruleName, Integer rulePriority, boolean defaultRule) {
    public Verdict {
        Objects.requireNonNull(decision, "decision");
        Objects.requireNonNull(ruleName, "ruleName");
    }

    public enum Decision {
        ALERT, BLOCK, IGNORE,
        /** The matching rule's allow list holds the executed file: not drift for that rule. */
        ALLOWED;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
