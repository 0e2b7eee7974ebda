package io.driftagent.agent.enforce;

/**
 * Decides whether an exec may proceed. Runs on the guard's decision lanes with a deadline: a decider that throws,
 * returns null or does not return in time gets the guard's answer for a late decision instead (the guard's default,
 * or what the decider set with {@link PendingExec#answerOnTimeout}; counted and logged by reason), so it cannot
 * freeze the workload. It should still be quick: the exec'ing process waits for it.
 *
 * <p>Execs of one lane ({@link #laneOf}) are decided one at a time, in order; different lanes in parallel on a
 * bounded pool. So one container whose decisions are slow (an attacker chooses the files it execs) delays only its
 * own execs, never another container's.
 */
@FunctionalInterface
public interface ExecPermissionDecider {
    PermissionDecision decide(ExecPermissionRequest request) throws Exception;

    /**
     * The lane in which to decide this exec (e.g. its container). Called on the guard's reading thread, before the
     * exec is queued: must be cheap (no file content read). The default is the exec's cgroup.
     */
    default Object laneOf(ExecPermissionRequest request) throws Exception {
        return request.event().cgroupId();
    }

    /**
     * The decision, when it can be made at once: nothing read but what the request holds and in-memory state, no
     * file content, nothing built; else empty, and the exec is decided by {@link #decide} in its lane. Called on the
     * guard's reading thread, only when the exec's lane is idle, so it must be quick and the same decision
     * {@link #decide} would make (it is the same decision, without the hand-off to a decision thread). Unlike
     * {@code decide} it sets no late answer: a reading thread stuck past the deadline is answered the guard's default.
     * The default never decides at once.
     */
    default java.util.Optional<PermissionDecision> decideAtOnce(ExecPermissionRequest request) throws Exception {
        return java.util.Optional.empty();
    }

    /**
     * The exec was denied without a decision (answered at its deadline before its turn in the lane came, its lane
     * was full, or the decider failed) and will not be decided: the decider may still report it. Called once, after
     * the answer, on a guard thread; must not block.
     *
     * @param reason the default's reason ({@code timeout}, {@code overloaded}, {@code decider_error}, ...)
     */
    default void deniedWithoutDecision(ExecPermissionRequest request, String reason) {
    }
}
