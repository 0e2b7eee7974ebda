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
 * @param workers          decider threads
 * @param maxQueued        permission events waiting for a worker; beyond that, answered with the default at once
 * @param procRoot         /proc
 */
public record GuardConfig(Duration decisionTimeout, PermissionDecision defaultDecision, int workers, int maxQueued, Path procRoot) {
    public GuardConfig {
        Objects.requireNonNull(decisionTimeout, "decisionTimeout");
        Objects.requireNonNull(defaultDecision, "defaultDecision");
        Objects.requireNonNull(procRoot, "procRoot");
        if (decisionTimeout.isNegative() || decisionTimeout.isZero() || decisionTimeout.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("decisionTimeout must be within (0, 10s]: " + decisionTimeout);
        }
        if (workers < 1 || workers > 64) {
            throw new IllegalArgumentException("workers must be within 1..64: " + workers);
        }
        if (maxQueued < 1 || maxQueued > 1_000_000) {
            throw new IllegalArgumentException("maxQueued must be within 1..1000000: " + maxQueued);
        }
    }

    public static GuardConfig defaults() {
        return new GuardConfig(Duration.ofMillis(500), PermissionDecision.ALLOW, 2, 4096, Path.of("/proc"));
    }

    public GuardConfig withDecisionTimeout(Duration timeout) {
        return new GuardConfig(timeout, defaultDecision, workers, maxQueued, procRoot);
    }

    public GuardConfig withDefaultDecision(PermissionDecision d) {
        return new GuardConfig(decisionTimeout, d, workers, maxQueued, procRoot);
    }
}
