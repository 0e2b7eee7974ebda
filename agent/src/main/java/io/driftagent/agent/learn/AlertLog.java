package io.driftagent.agent.learn;

import io.driftagent.policy.learn.RecordedAlert;
import java.util.List;

/**
 * An alert log as read: the alert lines understood, and the lines skipped with why.
 *
 * @param alerts    the alerts, in file order
 * @param malformed the lines that are not alerts (blank lines are not counted)
 */
public record AlertLog(List<RecordedAlert> alerts, List<Malformed> malformed) {
    public AlertLog {
        alerts = List.copyOf(alerts);
        malformed = List.copyOf(malformed);
    }

    /** One skipped line: its 1-based number and the reason. */
    public record Malformed(long line, String reason) {
    }
}
