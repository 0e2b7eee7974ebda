package io.driftagent.agent.enforce;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.TimeoutVerdict;
import io.driftagent.policy.model.DriftKind;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The synchronous decision for one guarded exec, before it runs, in the order its parts become known:
 * <ol>
 *   <li>its container (attribution; also the exec's decision lane: one container's execs are decided one at a time,
 *       so a container whose files are slow to decide only delays itself);</li>
 *   <li>its workload, and from it what a late answer should be: the {@code onTimeout} of the block rule that could
 *       decide it ({@link CompiledPolicy#onTimeout}), handed to the guard before the slow part;</li>
 *   <li>its file's classification (the slow part: a copied-up file may be hashed); an image file is allowed until
 *       modified (remembered by the guard);</li>
 *   <li>the policy's verdict, turned into the answer by the one decision of blocking, {@link Enforcer#decide}: DENY
 *       only for drift whose verdict is {@code block}.</li>
 * </ol>
 * A denial is answered to the kernel here, and only an exec that was really denied (the deadline may have answered
 * first) is handed to the pipeline with its classification, to be reported as {@code BinaryDriftBlocked} without
 * being classified again.
 */
public final class BlockingDecider implements ExecPermissionDecider {

    /** Where execs the guard denied go, with the classification the decision used. */
    @FunctionalInterface
    public interface DeniedExecs {
        boolean denied(ExecEvent event, Classification classification);
    }

    /** The one lane of execs no container claims (allowed at once: the guard marks only containers' filesystems). */
    static final Object HOST_LANE = "host";

    private static final Set<DriftKind> FILELESS = EnumSet.of(DriftKind.FILELESS, DriftKind.UNRESOLVED);
    private static final Set<DriftKind> WRITABLE_LAYER = EnumSet.of(DriftKind.ADDED, DriftKind.MODIFIED, DriftKind.UNRESOLVED);
    private static final Set<DriftKind> ANY = EnumSet.complementOf(EnumSet.of(DriftKind.IMAGE));

    private final ContainerAttributor attributor;
    private final DriftClassifier classifier;
    private final MetadataProvider metadata;
    private final Supplier<CompiledPolicy> policy;
    private final AlertAssembler facts;
    private final DeniedExecs denied;

    /** @param policy the policy in force, read once per decision (a reload replaces it) */
    public BlockingDecider(ContainerAttributor attributor, DriftClassifier classifier, MetadataProvider metadata,
                           Supplier<CompiledPolicy> policy, AlertAssembler facts, DeniedExecs denied) {
        this.attributor = attributor;
        this.classifier = classifier;
        this.metadata = metadata;
        this.policy = policy;
        this.facts = facts;
        this.denied = denied;
    }

    @Override
    public Object laneOf(ExecPermissionRequest request) {
        return attributor.attribute(request.event()).<Object>map(ContainerContext::id).orElse(HOST_LANE);
    }

    @Override
    public PermissionDecision decide(ExecPermissionRequest request) {
        ExecEvent event = request.event();
        CompiledPolicy current = policy.get();
        Optional<ContainerContext> container = attributor.attribute(event);
        if (container.isEmpty()) {
            return PermissionDecision.ALLOW;
        }
        WorkloadMetadata workload = metadata.lookup(container.get().id()).orElse(WorkloadMetadata.UNKNOWN);
        TimeoutVerdict late = current.onTimeout(
                facts.facts(workload, Classification.unresolved(event.filename(), "not classified yet")),
                possibleKinds(event.flags()));
        request.pending().answerOnTimeout(late.denies() ? PermissionDecision.DENY : PermissionDecision.ALLOW,
                late.ruleName() == null ? "policy (no block rule applies)" : "onTimeout of rule '" + late.ruleName() + "'");

        Classification classification = classifier.classify(event, container.get());
        return decided(request, current, workload, classification);
    }

    /**
     * The same decision when its classification needs no content read and nothing built
     * ({@link DriftClassifier#classifyAtOnce}): the container known (attribution), the file's kind from the
     * descriptor's facts and the image index, the workload from memory, the policy's verdict.
     */
    @Override
    public Optional<PermissionDecision> decideAtOnce(ExecPermissionRequest request) {
        ExecEvent event = request.event();
        CompiledPolicy current = policy.get();
        Optional<ContainerContext> container = attributor.attribute(event);
        if (container.isEmpty()) {
            return Optional.of(PermissionDecision.ALLOW);
        }
        Optional<Classification> classification = classifier.classifyAtOnce(event, container.get());
        if (classification.isEmpty()) {
            return Optional.empty();
        }
        WorkloadMetadata workload = metadata.lookup(container.get().id()).orElse(WorkloadMetadata.UNKNOWN);
        return Optional.of(decided(request, current, workload, classification.get()));
    }

    /** The answer for a classified exec; a denial is answered here, then reported. */
    private PermissionDecision decided(ExecPermissionRequest request, CompiledPolicy current, WorkloadMetadata workload,
                                       Classification classification) {
        // an image file is allowed until modified without asking the policy
        PermissionDecision decision = Enforcer.decide(classification,
                () -> current.evaluate(facts.facts(workload, classification)));
        if (decision != PermissionDecision.DENY) {
            return decision;
        }
        // a denial is reported: the process's details are read while it still waits in execve (after the answer it
        // may be gone at once: a shell's child exits as soon as execve fails); its latency does not matter
        ExecEvent reported = request.reportedEvent();
        if (request.pending().answer(PermissionDecision.DENY) == PermissionDecision.DENY) {
            denied.denied(reported, classification);
        }
        return PermissionDecision.DENY;
    }

    /**
     * Reports an exec the guard denied without a decision (at its deadline, before its turn came; a full lane; a
     * decider failure) as blocked, unclassified: classifying it now could take as long as whatever made it late, on
     * the pipeline's thread.
     */
    @Override
    public void deniedWithoutDecision(ExecPermissionRequest request, String reason) {
        denied.denied(request.reportedEvent(), Classification.unresolved(request.event().filename(),
                "not classified: denied by the guard without a decision (" + reason + ")"));
    }

    /**
     * The drift kinds the kernel's facts about the file leave possible before it is classified: a memfd or deleted
     * file is fileless; a file of the overlay's writable layer is new or changed; anything else may be any kind.
     */
    static Set<DriftKind> possibleKinds(ExecEvent.Flags flags) {
        if (flags.memfd() || flags.unlinked()) {
            return FILELESS;
        }
        if (flags.overlay() && flags.upperLayer()) {
            return WRITABLE_LAYER;
        }
        return ANY;
    }
}
