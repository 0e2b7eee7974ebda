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
 * @param detailsMissing reports whose process was gone when its details (parent, uid, gid, start time) were read
 *                     after the answer: reported with those unknown
 * @param answerTimes  where the time from reading a decided exec's event to writing its answer went
 * @param placements   decisions made before the process was read from /proc, and how their guess held up
 */
public record GuardStats(long received, long allowed, long denied, Map<String, Long> defaulted,
                         Map<String, Long> defaultedDenied, long answerFailed, long remembered,
                         Map<String, Long> notRemembered, long lateDecisions, long overruled,
                         long skipped, long detailsMissing, AnswerTimes answerTimes,
                         Placements placements) {
    public GuardStats {
        defaulted = Map.copyOf(defaulted);
        defaultedDenied = Map.copyOf(defaultedDenied);
        notRemembered = Map.copyOf(notRemembered);
        java.util.Objects.requireNonNull(answerTimes, "answerTimes");
        java.util.Objects.requireNonNull(placements, "placements");
    }

    /**
     * Execs allowed from their descriptor's facts alone: the placement of the process (its container) taken from
     * where the file's overlay's execs came from before, the process read from /proc only after the answer.
     *
     * @param decidedBeforeProc allowed that way (of {@link AnswerTimes#decidedAtOnce()})
     * @param mismatched        of those, the process read after the answer had another placement (the overlay is
     *                          placed from /proc first from then on)
     * @param unverified        of those, the process was gone before it could be read after the answer
     */
    public record Placements(long decidedBeforeProc, long mismatched, long unverified) {
        public static final Placements NONE = new Placements(0, 0, 0);
    }

    /**
     * Sums over the execs the decider answered (not the defaults) of the time each spent, from the moment its event
     * was read to the moment its answer was written: the exec'ing process waits in execve all that time.
     *
     * @param decided      execs answered by the decider's decision
     * @param decidedAtOnce of those, decided on the reading thread without a hand-off to their lane
     * @param prepareNanos on the reading thread: the file's facts from the fd, the container (the exec's lane)
     * @param laneWaitNanos queued in its lane until a decision thread took it
     * @param decideNanos  the decision itself, up to the written answer
     */
    public record AnswerTimes(long decided, long decidedAtOnce, long prepareNanos, long laneWaitNanos,
                              long decideNanos) {
        public static final AnswerTimes NONE = new AnswerTimes(0, 0, 0, 0, 0);

        /** Mean microseconds from read to answer per decided exec; 0 when none was decided. */
        public double meanMicros() {
            return decided == 0 ? 0 : (prepareNanos + laneWaitNanos + decideNanos) / 1e3 / decided;
        }
    }

    public long answered() {
        return allowed + denied;
    }
}
