package io.driftagent.agent.classification;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.source.ExecEvent;

/** Decides the {@link Classification} of one exec in a container. Never throws for a file it cannot read: UNRESOLVED. */
public interface DriftClassifier {

    /** With the classifier's own hash budget (the pipeline's). */
    Classification classify(ExecEvent event, ContainerContext container);

    /**
     * Hashes within {@code budget} at most, whatever the file (an attacker chooses its size): for a caller with a
     * deadline, such as a blocking decision. An implementation that never hashes may ignore the budget; one that
     * hashes must override this.
     */
    default Classification classify(ExecEvent event, ContainerContext container, HashBudget budget) {
        return classify(event, container);
    }

    /**
     * The classification {@link #classify(ExecEvent, ContainerContext)} would give, when it can be had at once: no
     * file content read, nothing built (an image index not loaded yet), only a bounded number of stats; else empty
     * (then classify, where waiting is allowed). For a caller that must not be held up, such as the guard's reading
     * thread. The default never claims to be quick.
     */
    default java.util.Optional<Classification> classifyAtOnce(ExecEvent event, ContainerContext container) {
        return java.util.Optional.empty();
    }

    /**
     * True when this classifier must be asked about every exec of {@code container}, the image's own files included
     * (the agent's own sandbox containers, whose observers count what they ran): the pipeline then never lets that
     * container's known image execs skip classification.
     */
    default boolean observesEveryExec(ContainerContext container) {
        return false;
    }

    /**
     * True when this exec must reach the classifier whatever is already known about its file (a self-test canary
     * being watched: the agent runs it and waits to see it classified). Asked on the exec source's thread for every
     * exec: must be cheap.
     */
    default boolean observes(ExecEvent event) {
        return false;
    }

    /**
     * True when {@link #observes} may be true for some exec now: the exec source must then deliver every exec, even
     * one it could keep as a known image file ({@code source.ImageExecKeeping}).
     */
    default boolean observesSome() {
        return false;
    }
}
