package io.driftagent.agent.pipeline;

import io.driftagent.agent.classify.Classification;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.reporter.alert.Alert;
import java.util.Objects;

/**
 * One exec travelling through the stages; each stage returns a copy with its own part filled in. Parts a stage
 * has not reached yet are null.
 */
record ExecInFlight(ExecEvent event, ContainerContext container, ProcessSnapshot process,
                    Classification classification, WorkloadMetadata metadata, Verdict verdict, Alert alert) {

    ExecInFlight {
        Objects.requireNonNull(event, "event");
    }

    static ExecInFlight attributed(ExecEvent event, ContainerContext container, ProcessSnapshot process) {
        return new ExecInFlight(event, Objects.requireNonNull(container), Objects.requireNonNull(process),
                null, null, null, null);
    }

    ExecInFlight withClassification(Classification value) {
        return new ExecInFlight(event, container, process, Objects.requireNonNull(value), metadata, verdict, alert);
    }

    ExecInFlight withMetadata(WorkloadMetadata value) {
        return new ExecInFlight(event, container, process, classification, Objects.requireNonNull(value), verdict, alert);
    }

    ExecInFlight withVerdict(Verdict value) {
        return new ExecInFlight(event, container, process, classification, metadata, Objects.requireNonNull(value), alert);
    }

    ExecInFlight withAlert(Alert value) {
        return new ExecInFlight(event, container, process, classification, metadata, verdict, Objects.requireNonNull(value));
    }
}
