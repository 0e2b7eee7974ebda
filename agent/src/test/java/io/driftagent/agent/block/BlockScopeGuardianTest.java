package io.driftagent.agent.block;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.proc.ContainerId;
import io.driftagent.agent.proc.ContainerRuntime;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BlockScopeGuardianTest {

    private static final ContainerId PAYMENTS = new ContainerId("a".repeat(64));

    private final List<Path> guardedRoots = new ArrayList<>();
    private final AtomicReference<Verdict.Decision> decision = new AtomicReference<>(Verdict.Decision.ALERT);
    private final AtomicReference<Object> policyInForce = new AtomicReference<>(new Object());
    private final AtomicReference<Optional<WorkloadMetadata>> workload = new AtomicReference<>(Optional.of(
            new WorkloadMetadata("payments-0", "shop", "uid", Map.of(), "payments", "shop/payments:1", null)));
    private IOException guardFailure;

    private final BlockScopeGuardian guardian = new BlockScopeGuardian(
            event -> Optional.of(new ContainerContext(PAYMENTS, ContainerRuntime.CONTAINERD, "/kubepods/x", null, null)),
            root -> {
                if (guardFailure != null) {
                    throw guardFailure;
                }
                guardedRoots.add(root);
            },
            id -> workload.get(),
            facts -> new Verdict(decision.get(), "rule", 1, false),
            policyInForce::get,
            new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), Clock.systemUTC(), () -> "id"));

    private static ExecEvent execBy(int pid) {
        return new ExecEvent(pid, pid, 1, 0, 0, 1L, "sh", "/bin/sh", new ExecEvent.FileId(1, 2), ExecEvent.FileId.NONE,
                0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, 0);
    }

    @Test
    void aContainerUnderABlockRuleIsGuardedOnceThroughItsProcessRoot() {
        decision.set(Verdict.Decision.BLOCK);

        guardian.attribute(execBy(100));
        guardian.attribute(execBy(101));

        assertThat(guardedRoots).containsExactly(Path.of("/proc/100/root"));
    }

    @Test
    void aContainerNotBlockableIsNotGuardedUntilAReloadedPolicyBlocksIt() {
        guardian.attribute(execBy(100));
        decision.set(Verdict.Decision.BLOCK); // same policy object: nothing re-decided
        guardian.attribute(execBy(101));
        assertThat(guardedRoots).isEmpty();

        policyInForce.set(new Object()); // a reload
        guardian.attribute(execBy(102));

        assertThat(guardedRoots).containsExactly(Path.of("/proc/102/root"));
    }

    @Test
    void aContainerWithoutMetadataYetIsDecidedAtALaterExec() {
        decision.set(Verdict.Decision.BLOCK);
        Optional<WorkloadMetadata> known = workload.getAndSet(Optional.empty());

        guardian.attribute(execBy(100));
        assertThat(guardedRoots).isEmpty();

        workload.set(known);
        guardian.attribute(execBy(101));
        assertThat(guardedRoots).containsExactly(Path.of("/proc/101/root"));
    }

    @Test
    void aFailedGuardIsTriedAgainAtTheNextExec() {
        decision.set(Verdict.Decision.BLOCK);
        guardFailure = new IOException("process gone");

        guardian.attribute(execBy(100));
        guardFailure = null;
        guardian.attribute(execBy(101));

        assertThat(guardedRoots).containsExactly(Path.of("/proc/101/root"));
    }
}
