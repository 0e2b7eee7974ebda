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
 * @param remembered   ALLOW_UNTIL_MODIFIED answers remembered in the kernel (no permission event until modified)
 * @param notRemembered ALLOW_UNTIL_MODIFIED answers given as a plain allow, by reason: not_image_file,
 *                     touched_while_marking, mark_refused
 */
public record GuardStats(long received, long allowed, long denied, Map<String, Long> defaulted, long answerFailed,
                         long remembered, Map<String, Long> notRemembered) {
    public GuardStats {
        defaulted = Map.copyOf(defaulted);
        notRemembered = Map.copyOf(notRemembered);
    }

    public long answered() {
        return allowed + denied;
    }
}
