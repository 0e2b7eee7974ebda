package io.driftagent.agent.enforce;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.pipeline.Enforcement;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where blocking decides. One decision, {@link #decide(Classification, Supplier)}, answers both questions blocking
 * asks: the guard's, synchronously, before a guarded exec runs ({@link BlockingDecider}), and the pipeline's, after an
 * exec ran ({@link #acted}). The pipeline drives the rest explicitly ({@link Enforcement}):
 * <ul>
 *   <li>a container seen at an exec is put under the exec guard when a block rule may scope it
 *       ({@link BlockScopeGuardian});</li>
 *   <li>drift the decision denies that ran anyway (no {@code BinaryDriftBlocked}: the guard let it through) is an
 *       escape. In a guarded container that is a remembered allowance gone stale (content changed through a shared
 *       writable mapping raises no modify event), a default answer, or an exec before the container was guarded.
 *       Every remembered allowance is then forgotten, so the next exec of that file is asked about and denied.</li>
 * </ul>
 */
public final class Enforcer implements Enforcement {

    private static final Logger log = LoggerFactory.getLogger(Enforcer.class);

    private final BlockScopeGuardian scope;
    private final Runnable forgetRememberedAllowances;
    private final LongAdder escapes = new LongAdder();

    /**
     * @param scope                      decides which containers are under the exec guard
     * @param forgetRememberedAllowances the guard's {@link FanotifyExecGuard#forgetRememberedAllowances()}
     */
    public Enforcer(BlockScopeGuardian scope, Runnable forgetRememberedAllowances) {
        this.scope = Objects.requireNonNull(scope, "scope");
        this.forgetRememberedAllowances = Objects.requireNonNull(forgetRememberedAllowances, "forgetRememberedAllowances");
    }

    /**
     * The decision for a classified exec under the policy's verdict: an image file may run until it is modified
     * (whoever runs it, whatever the policy says), drift the policy blocks is denied, everything else is allowed.
     *
     * @param verdict the policy's verdict on this exec, asked for drift only
     */
    public static PermissionDecision decide(Classification classification, Supplier<Verdict> verdict) {
        if (classification.kind() == DriftKind.IMAGE) {
            return PermissionDecision.ALLOW_UNTIL_MODIFIED;
        }
        return verdict.get().decision() == Verdict.Decision.BLOCK ? PermissionDecision.DENY : PermissionDecision.ALLOW;
    }

    @Override
    public boolean seesEveryExec() {
        return scope.policyMayBlock();
    }

    @Override
    public void containerSeen(ContainerContext container, ExecEvent event) {
        scope.containerSeen(container.id(), event.tgid());
    }

    @Override
    public void acted(ExecEvent event, boolean denied, Classification classification, Verdict verdict) {
        if (denied || decide(classification, () -> verdict) != PermissionDecision.DENY) {
            return;
        }
        escapes.increment();
        log.warn("drift under a block rule ran: {} (pid {}); forgetting remembered allowances", classification.path(),
                event.tgid());
        forgetRememberedAllowances.run();
    }

    /** Blockable drift execs that ran, since start. */
    public long escapes() {
        return escapes.sum();
    }
}
