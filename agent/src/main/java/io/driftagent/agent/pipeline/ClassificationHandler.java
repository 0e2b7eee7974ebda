package io.driftagent.agent.pipeline;

import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.policy.model.DriftKind;

/**
 * Classifies the executed file against the container's image; the image's own files stop here. A drifted exec whose
 * process was not snapshot at attribution (the kernel's flags said image layer) is snapshot now, late but best effort.
 */
final class ClassificationHandler implements StageHandler<ExecInFlight> {

    private final DriftClassifier classifier;
    private final ProcessInspector inspector;
    private final StageInput<ExecInFlight> next;
    private final PipelineMetrics metrics;
    private final KnownImageExecs knownImageExecs;

    ClassificationHandler(DriftClassifier classifier, ProcessInspector inspector, StageInput<ExecInFlight> next,
                          PipelineMetrics metrics, KnownImageExecs knownImageExecs) {
        this.knownImageExecs = knownImageExecs;
        this.classifier = classifier;
        this.inspector = inspector;
        this.next = next;
        this.metrics = metrics;
    }

    @Override
    public void handle(ExecInFlight exec) {
        // an exec the guard denied comes classified: its file was classified once, for the decision (a slow file
        // must not hold this thread, which every exec on the host passes, a second time)
        Classification classification = exec.classification() != null
                ? exec.classification() : classifier.classify(exec.event(), exec.container());
        if (classification.kind() == DriftKind.IMAGE) {
            if (!exec.denied() && !classifier.observesEveryExec(exec.container())) {
                knownImageExecs.learn(exec.event(), exec.container());
            }
            metrics.imageFile.increment();
            return;
        }
        if (classification.kind() == DriftKind.UNRESOLVED) {
            metrics.unresolved(classification.cause());
        }
        ExecInFlight drifted = exec;
        if (exec.process() == null) {
            drifted = exec.withProcess(inspector.inspect(exec.event()));
            metrics.snapshotAfterClassification.increment();
        }
        next.offer(drifted.withClassification(classification));
    }
}
