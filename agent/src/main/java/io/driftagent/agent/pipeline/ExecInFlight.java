package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.reporter.alert.Alert;
import java.util.Objects;

/**
 * One exec travelling through the stages; each stage returns a copy with its own part filled in. Parts a stage
 * has not reached yet are null.
 *
 * @param denied  the blocking guard already denied this exec (it never ran)
 * @param process the /proc snapshot; null until taken (at attribution when the exec may be drift, else by the
 *                classify stage for a drifted exec), never null after classification
 */
record ExecInFlight(ExecEvent event, boolean denied, ContainerContext container, ProcessSnapshot process,
                    Classification classification, WorkloadMetadata metadata, Verdict verdict, Alert alert) {

    ExecInFlight {
        Objects.requireNonNull(event, "event");
    }

    static ExecInFlight attributed(Arrival arrival, ContainerContext container, ProcessSnapshot process) {
        return new ExecInFlight(arrival.event(), arrival.denied(), Objects.requireNonNull(container), process,
                arrival.classification(), null, null, null);
    }

    /**
     * What a source delivered: the exec, whether the blocking guard denied it, and the classification the guard's
     * decision used (null when not classified yet: the classify stage does it).
     */
    record Arrival(ExecEvent event, boolean denied, Classification classification) {
        Arrival {
            Objects.requireNonNull(event, "event");
        }

        Arrival(ExecEvent event, boolean denied) {
            this(event, denied, null);
        }
    }

    ExecInFlight withProcess(ProcessSnapshot value) {
        return new ExecInFlight(event, denied, container, Objects.requireNonNull(value), classification, metadata, verdict, alert);
    }

    ExecInFlight withClassification(Classification value) {
        Objects.requireNonNull(process, "process snapshot must be taken before a drifted exec goes on");
        return new ExecInFlight(event, denied, container, process, Objects.requireNonNull(value), metadata, verdict, alert);
    }

    ExecInFlight withMetadata(WorkloadMetadata value) {
        return new ExecInFlight(event, denied, container, process, classification, Objects.requireNonNull(value), verdict, alert);
    }

    ExecInFlight withVerdict(Verdict value) {
        return new ExecInFlight(event, denied, container, process, classification, metadata, Objects.requireNonNull(value), alert);
    }

    ExecInFlight withAlert(Alert value) {
        return new ExecInFlight(event, denied, container, process, classification, metadata, verdict, Objects.requireNonNull(value));
    }
}
