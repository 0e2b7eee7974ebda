package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.LiveContainers;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.model.Action;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BlockScopeGuardianTest {

    private static final ContainerId PAYMENTS = new ContainerId("a".repeat(64));
    private static final Optional<WorkloadMetadata> PAYMENTS_POD = Optional.of(
            new WorkloadMetadata("payments-0", "shop", "uid", Map.of(), "payments", "shop/payments:1", null));
    private static final CompiledPolicy BLOCK_SHOP = policy("shop");
    private static final CompiledPolicy BLOCK_OTHER_NAMESPACE = policy("billing");
    private static final CompiledPolicy ALERT_ONLY = CompiledPolicy.defaultOnly(Action.ALERT);

    private final List<String> calls = new ArrayList<>();
    private final AtomicReference<CompiledPolicy> policyInForce = new AtomicReference<>(ALERT_ONLY);
    private final AtomicReference<Optional<WorkloadMetadata>> workload = new AtomicReference<>(PAYMENTS_POD);
    private IOException guardFailure;
    /** The payments container's longest-lived process; 0: the scan sees none. */
    private final java.util.concurrent.atomic.AtomicInteger anchor = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();

    private final BlockScopeGuardian guardian = new BlockScopeGuardian(
            new BlockScopeGuardian.RootGuard() {
                @Override
                public void guard(Path root) throws IOException {
                    if (guardFailure != null) {
                        throw guardFailure;
                    }
                    calls.add("guard " + root);
                }

                @Override
                public void unguard(Path root) {
                    calls.add("unguard " + root);
                }
            },
            id -> {
                lookups.incrementAndGet();
                return workload.get();
            },
            policyInForce::get,
            new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), Clock.systemUTC(), () -> "id"),
            new LiveContainers() {
                @Override
                public List<LiveContainer> scan() {
                    return anchor.get() == 0 ? List.of() : List.of(new LiveContainer(PAYMENTS, anchor.get()));
                }

                @Override
                public OptionalInt anchorOf(ContainerId id) {
                    return anchor.get() == 0 || !id.equals(PAYMENTS) ? OptionalInt.empty() : OptionalInt.of(anchor.get());
                }
            });

    private static CompiledPolicy policy(String blockedNamespace) {
        String yaml = """
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: block-namespace
                    priority: 1
                    action: block
                    resourceScope:
                      - field: namespace
                        operator: equals
                        values: ["%s"]
                defaultRule:
                  action: alert
                """.formatted(blockedNamespace);
        PolicyLoadResult result = new PolicyLoader().load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8));
        return result.policy().orElseThrow(() -> new AssertionError(result.problems().toString()));
    }

    private void execBy(int pid) {
        guardian.containerSeen(PAYMENTS, pid);
    }

    @Test
    void aContainerUnderABlockRuleIsGuardedOnceThroughItsProcessRoot() {
        policyInForce.set(BLOCK_SHOP);

        execBy(100);
        execBy(101);

        assertThat(calls).containsExactly("guard /proc/100/root");
    }

    @Test
    void aContainerOutsideEveryBlockRuleIsNeverGuarded() {
        policyInForce.set(BLOCK_OTHER_NAMESPACE);

        execBy(100);
        execBy(101);

        assertThat(calls).isEmpty();
    }

    @Test
    void aReloadedPolicyThatBlocksARunningContainerGuardsItAtItsNextExecAndOneThatNoLongerDoesReleasesIt() {
        execBy(100);
        assertThat(calls).isEmpty();

        policyInForce.set(BLOCK_SHOP);
        execBy(101);
        assertThat(calls).containsExactly("guard /proc/101/root");

        policyInForce.set(BLOCK_OTHER_NAMESPACE);
        execBy(102);
        assertThat(calls).containsExactly("guard /proc/101/root", "unguard /proc/101/root");
    }

    @Test
    void aContainerNotKnownYetIsGuardedProvisionallyWhenThePolicyBlocksAnythingAndReleasedOnceKnownNotBlockable() {
        policyInForce.set(BLOCK_OTHER_NAMESPACE);
        workload.set(Optional.empty());

        execBy(100);
        execBy(101);
        assertThat(calls).as("guarded from the first exec, while the pod informer catches up")
                .containsExactly("guard /proc/100/root");

        workload.set(PAYMENTS_POD);
        execBy(102);
        execBy(103);
        assertThat(calls).containsExactly("guard /proc/100/root", "unguard /proc/100/root");
    }

    @Test
    void aProvisionallyGuardedContainerThatTurnsOutBlockableStaysGuarded() {
        policyInForce.set(BLOCK_SHOP);
        workload.set(Optional.empty());
        execBy(100);

        workload.set(PAYMENTS_POD);
        execBy(101);
        execBy(102);

        assertThat(calls).containsExactly("guard /proc/100/root");
    }

    @Test
    void aContainerNotKnownYetIsNotGuardedWhenThePolicyBlocksNothing() {
        workload.set(Optional.empty());

        execBy(100);

        assertThat(calls).isEmpty();
    }

    @Test
    void underAPolicyThatBlocksNothingNoMetadataIsLookedUp() {
        workload.set(Optional.empty());

        execBy(100);
        execBy(101);

        assertThat(calls).isEmpty();
        assertThat(lookups).hasValue(0);
    }

    @Test
    void aFailedGuardIsTriedAgainAtTheNextExec() {
        policyInForce.set(BLOCK_SHOP);
        guardFailure = new IOException("process gone");

        execBy(100);
        guardFailure = null;
        execBy(101);

        assertThat(calls).containsExactly("guard /proc/101/root");
    }

    @Test
    void aRunningContainerUnderABlockRuleIsGuardedWithoutAnExecThroughItsLongestLivedProcess() {
        // given a container running since before the agent, its init pid 7
        policyInForce.set(BLOCK_SHOP);
        anchor.set(7);

        // when the running containers are decided (at start)
        int unguarded = guardian.guardRunning();

        // then it is guarded through its init, and its next exec changes nothing
        assertThat(unguarded).isZero();
        assertThat(calls).containsExactly("guard /proc/7/root");
        execBy(100);
        assertThat(calls).containsExactly("guard /proc/7/root");
    }

    @Test
    void anExecIsGuardedThroughItsContainersLongestLivedProcessNotThroughTheExecThatMayBeGone() {
        policyInForce.set(BLOCK_SHOP);
        anchor.set(7);

        execBy(100);

        assertThat(calls).containsExactly("guard /proc/7/root");
    }

    @Test
    void aContainerThatCannotBeGuardedIsCountedAndTriedAgainAtTheNextScan() {
        policyInForce.set(BLOCK_SHOP);
        anchor.set(7);
        guardFailure = new IOException("no such file");

        assertThat(guardian.guardRunning()).isEqualTo(1);
        assertThat(guardian.attachFailures()).isEqualTo(1);

        guardFailure = null;
        assertThat(guardian.guardRunning()).isZero();
        assertThat(calls).containsExactly("guard /proc/7/root");
    }

    @Test
    void nothingIsScannedOrGuardedUnderAPolicyThatBlocksNothing() {
        anchor.set(7);

        assertThat(guardian.guardRunning()).isZero();

        assertThat(calls).isEmpty();
        assertThat(lookups).hasValue(0);
    }
}
