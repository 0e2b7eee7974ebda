package io.driftagent.agent.block;

import io.driftagent.agent.k8s.MetadataProvider;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.PolicyEvaluator;
import io.driftagent.agent.proc.ContainerAttributor;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.proc.ContainerId;
import io.driftagent.agent.classify.Classification;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a container under the exec guard the first time one of its execs is attributed, when some drift in it would
 * be blocked by the policy: only those containers' filesystems get permission events, so every other workload execs
 * at full speed and can never be frozen by the agent. A container found not blockable is looked at again after the
 * policy changes (a block rule added by a reload covers running containers from their next exec); a guarded one
 * stays guarded until it stops (under a policy that no longer blocks it, its execs are simply allowed).
 */
public final class BlockScopeGuardian implements ContainerAttributor {

    /** Puts the filesystem seen at {@code root} (a container's {@code /proc/<pid>/root}) under the exec guard. */
    @FunctionalInterface
    public interface RootGuard {
        void guard(Path root) throws IOException;
    }


    private static final Logger log = LoggerFactory.getLogger(BlockScopeGuardian.class);
    private static final DriftKind[] DRIFT = {DriftKind.ADDED, DriftKind.MODIFIED, DriftKind.MOUNT, DriftKind.FILELESS};
    private static final int MAX_REMEMBERED = 65_536;

    private final ContainerAttributor delegate;
    private final RootGuard guard;
    private final MetadataProvider metadata;
    private final PolicyEvaluator policy;
    private final Supplier<?> policyVersion;
    private final AlertAssembler facts;
    private final Set<ContainerId> guarded = ConcurrentHashMap.newKeySet();
    private final Set<ContainerId> notBlockable = ConcurrentHashMap.newKeySet();
    private volatile Object decidedUnder;

    /**
     * @param policyVersion the policy in force (compared by identity: a reload replaces it), so that containers found
     *                      not blockable are decided again under a new policy
     */
    public BlockScopeGuardian(ContainerAttributor delegate, RootGuard guard, MetadataProvider metadata,
                              PolicyEvaluator policy, Supplier<?> policyVersion, AlertAssembler facts) {
        this.delegate = delegate;
        this.guard = guard;
        this.metadata = metadata;
        this.policy = policy;
        this.policyVersion = policyVersion;
        this.facts = facts;
    }

    @Override
    public Optional<ContainerContext> attribute(ExecEvent event) {
        Optional<ContainerContext> container = delegate.attribute(event);
        container.ifPresent(c -> guardIfBlockable(c, event.tgid()));
        return container;
    }

    private void guardIfBlockable(ContainerContext container, int tgid) {
        Object version = policyVersion.get();
        if (version != decidedUnder) {
            notBlockable.clear();
            decidedUnder = version;
        }
        if (guarded.contains(container.id()) || notBlockable.contains(container.id())) {
            return;
        }
        Optional<WorkloadMetadata> workload = metadata.lookup(container.id());
        if (workload.isEmpty()) {
            return; // decide once its metadata is known, at a later exec
        }
        if (notBlockable.size() >= MAX_REMEMBERED) {
            notBlockable.clear();
        }
        if (guarded.size() >= MAX_REMEMBERED) {
            guarded.clear(); // re-guarding a container that is already guarded is harmless
        }
        if (!blockable(workload.get())) {
            notBlockable.add(container.id());
            return;
        }
        try {
            guard.guard(Path.of("/proc", Integer.toString(tgid), "root"));
            guarded.add(container.id());
            log.info("container {} is under a block rule: its execs are now guarded", container.id());
        } catch (IOException | RuntimeException e) {
            log.debug("cannot guard container {} through pid {}: {}", container.id(), tgid, e.getMessage());
        }
    }

    /** Whether the policy blocks some drift kind in this workload (wherever the file is). */
    private boolean blockable(WorkloadMetadata workload) {
        for (DriftKind kind : DRIFT) {
            Classification probe = new Classification(kind, "/", null, null, null, null);
            if (policy.evaluate(facts.facts(workload, probe)).decision() == Verdict.Decision.BLOCK) {
                return true;
            }
        }
        return false;
    }
}
