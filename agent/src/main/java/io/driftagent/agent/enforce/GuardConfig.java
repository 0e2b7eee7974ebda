package io.driftagent.agent.enforce;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link FanotifyExecGuard}.
 *
 * @param decisionTimeout  the longest an exec waits for the decider before getting the answer for a late decision
 * @param defaultDecision  the answer on timeout (unless the decider set another, {@link PendingExec#answerOnTimeout}),
 *                         decider error/null, overload and shutdown
 * @param workers          threads that read permission events and queue them in their lanes (they never wait for a
 *                         decision)
 * @param eventsPerRead    permission events one worker takes per read(2)
 * @param procRoot         /proc
 * @param deciderThreads   threads that run decisions; one lane (container) holds at most one of them
 * @param laneCapacity     execs one lane may hold waiting or in decision; more are answered at once ({@code overloaded})
 */
public record GuardConfig(Duration decisionTimeout, PermissionDecision defaultDecision, int workers, int eventsPerRead,
                          Path procRoot, int deciderThreads, int laneCapacity) {
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
        if (deciderThreads < 1 || deciderThreads > 64) {
            throw new IllegalArgumentException("deciderThreads must be within 1..64: " + deciderThreads);
        }
        if (laneCapacity < 1 || laneCapacity > 4096) {
            throw new IllegalArgumentException("laneCapacity must be within 1..4096: " + laneCapacity);
        }
    }

    /** With the default decider threads (4) and lane capacity (64). */
    public GuardConfig(Duration decisionTimeout, PermissionDecision defaultDecision, int workers, int eventsPerRead,
                       Path procRoot) {
        this(decisionTimeout, defaultDecision, workers, eventsPerRead, procRoot, 4, 64);
    }

    public static GuardConfig defaults() {
        return new GuardConfig(Duration.ofMillis(500), PermissionDecision.ALLOW, 2, 4, Path.of("/proc"));
    }

    public GuardConfig withDecisionTimeout(Duration timeout) {
        return new GuardConfig(timeout, defaultDecision, workers, eventsPerRead, procRoot, deciderThreads, laneCapacity);
    }

    public GuardConfig withDefaultDecision(PermissionDecision d) {
        return new GuardConfig(decisionTimeout, d, workers, eventsPerRead, procRoot, deciderThreads, laneCapacity);
    }

    public GuardConfig withDeciders(int threads, int capacity) {
        return new GuardConfig(decisionTimeout, defaultDecision, workers, eventsPerRead, procRoot, threads, capacity);
    }
}
