package io.driftagent.agent.block;

import io.driftagent.agent.classify.Classification;
import io.driftagent.agent.classify.DriftClassifier;
import io.driftagent.agent.k8s.MetadataProvider;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.PolicyEvaluator;
import io.driftagent.agent.proc.ContainerAttributor;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.fanotify.ExecPermissionDecider;
import io.driftagent.agent.source.fanotify.ExecPermissionRequest;
import io.driftagent.agent.source.fanotify.PermissionDecision;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import java.util.Optional;

/**
 * The synchronous decision for one guarded exec, before it runs: the same attribution, classification, metadata and
 * policy as the pipeline, answered DENY only for drift whose verdict is {@code block}; an image file is allowed until
 * modified (remembered by the guard). A denied exec is handed to
 * the pipeline's denied entrance, which reports it as {@code BinaryDriftBlocked}. The guard answers with its default
 * when this takes longer than its deadline or throws.
 */
public final class BlockingDecider implements ExecPermissionDecider {

    private final ContainerAttributor attributor;
    private final DriftClassifier classifier;
    private final MetadataProvider metadata;
    private final PolicyEvaluator policy;
    private final AlertAssembler facts;
    private final ExecEventSink denied;

    public BlockingDecider(ContainerAttributor attributor, DriftClassifier classifier, MetadataProvider metadata,
                           PolicyEvaluator policy, AlertAssembler facts, ExecEventSink denied) {
        this.attributor = attributor;
        this.classifier = classifier;
        this.metadata = metadata;
        this.policy = policy;
        this.facts = facts;
        this.denied = denied;
    }

    @Override
    public PermissionDecision decide(ExecPermissionRequest request) {
        Optional<ContainerContext> container = attributor.attribute(request.event());
        if (container.isEmpty()) {
            return PermissionDecision.ALLOW;
        }
        Classification classification = classifier.classify(request.event(), container.get());
        if (classification.kind() == DriftKind.IMAGE) {
            // an image file is allowed whoever runs it and whatever the policy says: the guard may skip asking
            // again until the file is modified
            return PermissionDecision.ALLOW_UNTIL_MODIFIED;
        }
        WorkloadMetadata workload = metadata.lookup(container.get().id()).orElse(WorkloadMetadata.UNKNOWN);
        Verdict verdict = policy.evaluate(facts.facts(workload, classification));
        if (verdict.decision() != Verdict.Decision.BLOCK) {
            return PermissionDecision.ALLOW;
        }
        denied.offer(request.event());
        return PermissionDecision.DENY;
    }
}
