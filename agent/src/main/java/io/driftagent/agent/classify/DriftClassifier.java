package io.driftagent.agent.classify;

import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.source.ExecEvent;

/** Decides the {@link Classification} of one exec in a container. Never throws for a file it cannot read: UNRESOLVED. */
public interface DriftClassifier {
    Classification classify(ExecEvent event, ContainerContext container);
}
