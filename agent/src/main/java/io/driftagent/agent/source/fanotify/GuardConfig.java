package io.driftagent.agent.source.fanotify;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link FanotifyExecGuard}.
 *
 * @param decisionTimeout  the longest an exec waits for the decider before getting {@code defaultDecision}
 * @param defaultDecision  the answer on timeout, decider error/null, overload and shutdown (ALLOW unless a
 *                         deployment prefers to fail closed)
 * @param workers          threads that read and decide (a hung decider holds one; the rest go on)
 * @param eventsPerRead    permission events one worker takes per read(2): small, so one slow decision delays few
 * @param procRoot         /proc
 */
public record GuardConfig(Duration decisionTimeout, PermissionDecision defaultDecision, int workers, int eventsPerRead, Path procRoot) {
    public GuardConfig {
        Objects.requireNonNull(decisionTimeout, "decisionTimeout");
        Objects.requireNonNull(defaultDecision, "defaultDecision");
        Objects.requireNonNull(procRoot, "procRoot");
        if (defaultDecision == PermissionDecision.ALLOW_UNTIL_MODIFIED) {
            throw new IllegalArgumentException("the default decision is ALLOW or DENY: a default is never remembered");
        }
        if (decisionTimeout.isNegative() || decisionTimeout.isZero() || decisionTimeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("decisionTimeout must be within (0, 10s]: " + decisionTimeout);
        }
        if (workers < 1 || workers > 64) {
            throw new IllegalArgumentException("workers must be within 1..64: " + workers);
        }
        if (eventsPerRead < 1 || eventsPerRead > 256) {
            throw new IllegalArgumentException("eventsPerRead must be within 1..256: " + eventsPerRead);
        }
    }

    public static GuardConfig defaults() {
        return new GuardConfig(Duration.ofMillis(500), PermissionDecision.ALLOW, 2, 4, Path.of("/proc"));
    }

    public GuardConfig withDecisionTimeout(Duration timeout) {
        return new GuardConfig(timeout, defaultDecision, workers, eventsPerRead, procRoot);
    }

    public GuardConfig withDefaultDecision(PermissionDecision d) {
        return new GuardConfig(decisionTimeout, d, workers, eventsPerRead, procRoot);
    }
}
