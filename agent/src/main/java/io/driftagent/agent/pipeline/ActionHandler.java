package io.driftagent.agent.pipeline;

import io.driftagent.policy.eval.Verdict;

/**
 * Acts on the verdict: ALERT and BLOCK become an alert (a BLOCK as {@code BinaryDriftBlocked}; the denial itself
 * happened synchronously in the fanotify permission guard); IGNORE and ALLOWED end here, counted by the policy
 * stage.
 */
final class ActionHandler implements StageHandler<ExecInFlight> {

    private final AlertAssembler assembler;
    private final Stage<ExecInFlight> next;

    ActionHandler(AlertAssembler assembler, Stage<ExecInFlight> next) {
        this.assembler = assembler;
        this.next = next;
    }

    @Override
    public void handle(ExecInFlight exec) {
        Verdict.Decision decision = exec.verdict().decision();
        if (decision != Verdict.Decision.ALERT && decision != Verdict.Decision.BLOCK) {
            return;
        }
        next.offer(exec.withAlert(assembler.alert(exec.event(), exec.process(), exec.container(), exec.metadata(),
                exec.classification(), exec.verdict())));
    }
}
