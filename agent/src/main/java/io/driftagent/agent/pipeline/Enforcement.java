package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;

/**
 * What the pipeline tells blocking (implemented by {@code enforce.Enforcer}), at two explicit points: the
 * {@code attribute} stage reports each container it placed an exec in (a container seen for the first time, or again
 * under a policy that may have changed), and the {@code act} stage reports the verdict on each drifted exec. The
 * pipeline itself never decides about blocking.
 */
public interface Enforcement {

    /** Nothing is enforced (a pipeline without blocking, as in tests and benchmarks). */
    Enforcement NONE = new Enforcement() {
        @Override
        public void containerSeen(ContainerContext container, ExecEvent event) {
        }

        @Override
        public void acted(ExecEvent event, boolean denied, Classification classification, Verdict verdict) {
        }
    };

    /**
     * True while blocking needs to see every exec placed in a container, image files included (a policy that may
     * block: an exec is where a container's guard is decided); otherwise the pipeline may let an exec it knows to be
     * an image file skip the stages. Read on the source's thread for every exec: must be cheap.
     */
    default boolean seesEveryExec() {
        return false;
    }

    /**
     * An exec was placed in {@code container}, on the attribute stage's thread, before its process is inspected.
     * Must be cheap for a container already decided under the policy in force.
     */
    void containerSeen(ContainerContext container, ExecEvent event);

    /**
     * The act stage's verdict on a drifted exec: one that ran ({@code denied} false), or one the guard denied.
     * Called before the alert is handed on; must not block.
     */
    void acted(ExecEvent event, boolean denied, Classification classification, Verdict verdict);
}
