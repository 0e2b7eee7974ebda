package io.driftagent.agent.pipeline;

import io.driftagent.policy.eval.Verdict;

/** Builds the facts and asks the policy; every verdict is counted by kind and decision. */
final class PolicyHandler implements StageHandler<ExecInFlight> {

    private final PolicyEvaluator policy;
    private final AlertAssembler assembler;
    private final StageInput<ExecInFlight> next;
    private final PipelineMetrics metrics;

    PolicyHandler(PolicyEvaluator policy, AlertAssembler assembler, StageInput<ExecInFlight> next, PipelineMetrics metrics) {
        this.policy = policy;
        this.assembler = assembler;
        this.next = next;
        this.metrics = metrics;
    }

    @Override
    public void handle(ExecInFlight exec) {
        Verdict verdict = policy.evaluate(assembler.facts(exec.metadata(), exec.classification(),
                AlertAssembler.triggerOf(exec.event())));
        metrics.verdict(exec.classification().kind(), verdict.decision()).increment();
        next.offer(exec.withVerdict(verdict));
    }
}
