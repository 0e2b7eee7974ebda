package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.metadata.MetadataProvider;
import java.util.Objects;

/**
 * The components the stages call, one per stage, and blocking's two points of contact ({@link Enforcement}: the
 * attribute and act stages).
 */
public record PipelineParts(ContainerAttributor attributor, ProcessInspector processInspector,
                            DriftClassifier classifier, MetadataProvider metadata, PolicyEvaluator policy,
                            AlertAssembler assembler, AlertPublisher publisher, Enforcement enforcement) {
    public PipelineParts {
        Objects.requireNonNull(attributor, "attributor");
        Objects.requireNonNull(processInspector, "processInspector");
        Objects.requireNonNull(classifier, "classifier");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(assembler, "assembler");
        Objects.requireNonNull(publisher, "publisher");
        Objects.requireNonNull(enforcement, "enforcement");
    }

    /** Parts of a pipeline that enforces nothing ({@link Enforcement#NONE}). */
    public PipelineParts(ContainerAttributor attributor, ProcessInspector processInspector, DriftClassifier classifier,
                         MetadataProvider metadata, PolicyEvaluator policy, AlertAssembler assembler,
                         AlertPublisher publisher) {
        this(attributor, processInspector, classifier, metadata, policy, assembler, publisher, Enforcement.NONE);
    }
}
