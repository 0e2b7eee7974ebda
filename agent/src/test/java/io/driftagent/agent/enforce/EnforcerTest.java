package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.LiveContainers;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.DriftKind;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EnforcerTest {

    private static final ExecEvent EXEC = new ExecEvent(7, 7, 1, 0, 0, 1L, "x", "/tmp/x", new ExecEvent.FileId(1, 2),
            ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, 0);
    private static final Classification ADDED = new Classification(DriftKind.ADDED, "/tmp/x", null, null, null, null);
    private static final Classification IMAGE = new Classification(DriftKind.IMAGE, "/bin/sh", null, null, null, null);

    private final AtomicInteger forgotten = new AtomicInteger();
    private final Enforcer enforcer = new Enforcer(new BlockScopeGuardian(new BlockScopeGuardian.RootGuard() {
        @Override
        public void guard(Path root) {
        }

        @Override
        public void unguard(Path root) {
        }
    }, id -> Optional.empty(), () -> CompiledPolicy.defaultOnly(Action.ALERT),
            new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), Clock.systemUTC(), () -> "id"),
            LiveContainers.NONE), forgotten::incrementAndGet);

    private static Verdict verdict(Verdict.Decision decision) {
        return new Verdict(decision, "rule", 1, false);
    }

    @Test
    void driftTheDecisionDeniesThatRanIsAnEscapeAndTheGuardForgetsItsRememberedAllowances() {
        enforcer.acted(EXEC, false, ADDED, verdict(Verdict.Decision.BLOCK));

        assertThat(forgotten).hasValue(1);
        assertThat(enforcer.escapes()).isEqualTo(1);
    }

    @Test
    void deniedDriftAndAlertOnlyDriftChangeNothing() {
        enforcer.acted(EXEC, true, ADDED, verdict(Verdict.Decision.BLOCK));
        enforcer.acted(EXEC, false, ADDED, verdict(Verdict.Decision.ALERT));

        assertThat(forgotten).hasValue(0);
        assertThat(enforcer.escapes()).isZero();
    }

    @Test
    void theOneDecisionAllowsImageFilesUntilModifiedWithoutAskingThePolicyAndDeniesOnlyBlockedDrift() {
        assertThat(Enforcer.decide(IMAGE, () -> {
            throw new AssertionError("an image file's verdict is never asked for");
        })).isEqualTo(PermissionDecision.ALLOW_UNTIL_MODIFIED);
        assertThat(Enforcer.decide(ADDED, () -> verdict(Verdict.Decision.BLOCK))).isEqualTo(PermissionDecision.DENY);
        assertThat(Enforcer.decide(ADDED, () -> verdict(Verdict.Decision.ALERT))).isEqualTo(PermissionDecision.ALLOW);
        assertThat(Enforcer.decide(ADDED, () -> verdict(Verdict.Decision.ALLOWED))).isEqualTo(PermissionDecision.ALLOW);
    }
}
