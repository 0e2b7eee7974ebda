package io.driftagent.agent.enforce;

/**
 * The guard's side of one exec waiting for its decision, as a decider sees it: the decider may say what a late
 * answer should be once it knows (the deciding rule's {@code onTimeout}), and may answer the kernel itself to learn
 * what the exec was actually told (the deadline may have answered first).
 */
public interface PendingExec {

    /**
     * From now on, a deadline that passes answers {@code answer} instead of the guard's default.
     *
     * @param decidedBy who chose it, for the log and for {@link #timeoutDecidedBy()} (e.g. {@code rule 'x'})
     */
    void answerOnTimeout(PermissionDecision answer, String decidedBy);

    /** Who chose what a deadline answers: {@code blocking.onTimeout} until a decider says otherwise. */
    String timeoutDecidedBy();

    /**
     * Answers the kernel now, unless it was answered already (by the deadline or a default).
     *
     * @return what the exec was told: {@code decision}, or the earlier answer
     */
    PermissionDecision answer(PermissionDecision decision);

    /** For a request built outside a guard (tests, tools): nothing is held, nothing to answer. */
    PendingExec NONE = new PendingExec() {
        @Override
        public void answerOnTimeout(PermissionDecision answer, String decidedBy) {
        }

        @Override
        public String timeoutDecidedBy() {
            return "none";
        }

        @Override
        public PermissionDecision answer(PermissionDecision decision) {
            return decision;
        }
    };
}
