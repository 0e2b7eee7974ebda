package io.driftagent.policy.learn;

import io.driftagent.policy.eval.DriftFacts;
import java.time.Instant;
import java.util.Objects;

/**
 * One alert line of an alert log, as far as suggesting and replaying a policy need it.
 *
 * @param line       1-based line number in the log (for messages)
 * @param id         the alert's id, null when absent
 * @param time       when the exec happened; null when absent
 * @param action     the action recorded: {@code alert} or {@code block}
 * @param blocked    whether the exec was denied ({@code BinaryDriftBlocked})
 * @param ruleName   the rule recorded as deciding, null when absent
 * @param count      how many occurrences the line stands for (a deduplication summary carries {@code count})
 * @param facts      what the policy looks at
 */
public record RecordedAlert(long line, String id, Instant time, String action, boolean blocked, String ruleName,
                            int count, DriftFacts facts) {
    public RecordedAlert {
        if (line < 1) {
            throw new IllegalArgumentException("line must be >= 1: " + line);
        }
        Objects.requireNonNull(action, "action");
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1: " + count);
        }
        Objects.requireNonNull(facts, "facts");
    }
}
