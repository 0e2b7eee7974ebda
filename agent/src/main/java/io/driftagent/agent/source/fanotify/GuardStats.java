package io.driftagent.agent.source.fanotify;

import java.util.Map;

/**
 * Counters of a {@link FanotifyExecGuard}.
 *
 * @param received    permission events read from the kernel
 * @param allowed     answered FAN_ALLOW (by the decider or by default)
 * @param denied      answered FAN_DENY (by the decider or by default)
 * @param defaulted   answers that were the default, by reason: timeout, decider_error, null_decision,
 *                    overloaded, fd_unreadable, shutdown, reader_failed
 * @param answerFailed write(2) of the answer failed (the kernel then keeps the event until the group closes)
 */
public record GuardStats(long received, long allowed, long denied, Map<String, Long> defaulted, long answerFailed) {
    public GuardStats {
        defaulted = Map.copyOf(defaulted);
    }

    public long answered() {
        return allowed + denied;
    }
}
