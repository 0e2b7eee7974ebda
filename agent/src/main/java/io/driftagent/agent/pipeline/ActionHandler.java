package io.driftagent.agent.pipeline;

import io.driftagent.policy.eval.Verdict;

/**
 * Acts on the verdict: ALERT and BLOCK become an alert; IGNORE and ALLOWED end here (counted by the policy stage).
 * An exec the blocking guard denied always becomes a {@code BinaryDriftBlocked} alert: it is reported even if the
 * policy changed in the meantime.
 */
final class ActionHandler implements StageHandler<ExecInFlight> {

    private final AlertAssembler assembler;
    private final StageInput<ExecInFlight> next;

    ActionHandler(AlertAssembler assembler, StageInput<ExecInFlight> next) {
        this.assembler = assembler;
        this.next = next;
    }

    @Override
    public void handle(ExecInFlight exec) {
        Verdict.Decision decision = exec.verdict().decision();
        if (!exec.denied() && decision != Verdict.Decision.ALERT && decision != Verdict.Decision.BLOCK) {
            return;
        }
        next.offer(exec.withAlert(assembler.alert(exec.event(), exec.process(), exec.container(), exec.metadata(),
                exec.classification(), exec.verdict(), exec.denied())));
    }
}
