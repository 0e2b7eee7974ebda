package io.driftagent.agent.pipeline;

import io.driftagent.agent.classify.Classification;
import io.driftagent.agent.classify.DriftClassifier;
import io.driftagent.policy.model.DriftKind;

/** Classifies the executed file against the container's image; the image's own files stop here. */
final class ClassificationHandler implements StageHandler<ExecInFlight> {

    private final DriftClassifier classifier;
    private final Stage<ExecInFlight> next;
    private final PipelineMetrics metrics;

    ClassificationHandler(DriftClassifier classifier, Stage<ExecInFlight> next, PipelineMetrics metrics) {
        this.classifier = classifier;
        this.next = next;
        this.metrics = metrics;
    }

    @Override
    public void handle(ExecInFlight exec) {
        Classification classification = classifier.classify(exec.event(), exec.container());
        if (classification.kind() == DriftKind.IMAGE) {
            metrics.imageFile.increment();
            return;
        }
        next.offer(exec.withClassification(classification));
    }
}
