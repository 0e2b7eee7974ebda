package io.driftagent.agent.pipeline;

import io.driftagent.policy.eval.Verdict;

/**
 * Acts on the verdict: blocking hears of it first ({@link Enforcement#acted}: drift the policy blocks that ran anyway
 * is an escape from the guard); ALERT and BLOCK become an alert; IGNORE and ALLOWED end here (counted by the policy
 * stage). An exec the blocking guard denied always becomes a {@code BinaryDriftBlocked} alert: it is reported even if
 * the policy changed in the meantime. A library load ({@code LibraryDrift}) is only ever alerted: nothing can block it.
 */
final class ActionHandler implements StageHandler<ExecInFlight> {

    private final AlertAssembler assembler;
    private final Enforcement enforcement;
    private final StageInput<ExecInFlight> next;

    ActionHandler(AlertAssembler assembler, Enforcement enforcement, StageInput<ExecInFlight> next) {
        this.assembler = assembler;
        this.enforcement = enforcement;
        this.next = next;
    }

    @Override
    public void handle(ExecInFlight exec) {
        if (!exec.event().isLibraryLoad()) {
            // a library load cannot be blocked (the exec guard never sees mmap): no escape from the guard to report
            enforcement.acted(exec.event(), exec.denied(), exec.classification(), exec.verdict());
        }
        Verdict.Decision decision = exec.verdict().decision();
        if (!exec.denied() && decision != Verdict.Decision.ALERT && decision != Verdict.Decision.BLOCK) {
            return;
        }
        next.offer(exec.withAlert(assembler.alert(exec.event(), exec.process(), exec.container(), exec.metadata(),
                exec.classification(), exec.verdict(), exec.denied())));
    }
}
