package io.driftagent.agent.enforce;

import java.util.Map;

/**
 * Counters of a {@link FanotifyExecGuard}.
 *
 * @param received    permission events read from the kernel
 * @param allowed     answered FAN_ALLOW (by the decider or by default)
 * @param denied      answered FAN_DENY (by the decider or by default)
 * @param defaulted   answers that were not the decider's, by reason: timeout, decider_error, null_decision,
 *                    overloaded, fd_unreadable, shutdown, reader_failed
 * @param defaultedDenied of {@code defaulted}, those answered FAN_DENY, by reason
 * @param answerFailed write(2) of the answer failed (the kernel then keeps the event until the group closes)
 * @param remembered   ALLOW_UNTIL_MODIFIED answers remembered in the kernel (no permission event until modified)
 * @param notRemembered ALLOW_UNTIL_MODIFIED answers given as a plain allow, by reason: not_image_file,
 *                     touched_while_marking, mark_refused
 * @param lateDecisions decisions the decider finished after the exec had been answered by default
 * @param overruled    of those, the ones denied by default that the decider allowed (an exec wrongly denied)
 * @param skipped      execs answered at their deadline before their turn in the lane came, not decided then
 */
public record GuardStats(long received, long allowed, long denied, Map<String, Long> defaulted,
                         Map<String, Long> defaultedDenied, long answerFailed, long remembered,
                         Map<String, Long> notRemembered, long lateDecisions, long overruled,
                         long skipped) {
    public GuardStats {
        defaulted = Map.copyOf(defaulted);
        defaultedDenied = Map.copyOf(defaultedDenied);
        notRemembered = Map.copyOf(notRemembered);
    }

    public long answered() {
        return allowed + denied;
    }
}
