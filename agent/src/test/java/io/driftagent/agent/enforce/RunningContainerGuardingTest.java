package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.LiveContainers;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.model.Action;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RunningContainerGuardingTest {

    private static final ContainerId RUNNING = new ContainerId("d".repeat(64));

    private final List<String> tries = new CopyOnWriteArrayList<>();
    private final AtomicBoolean guardFails = new AtomicBoolean();
    private final AtomicReference<CompiledPolicy> policy = new AtomicReference<>(CompiledPolicy.defaultOnly(Action.BLOCK));

    private final BlockScopeGuardian guardian = new BlockScopeGuardian(
            new BlockScopeGuardian.RootGuard() {
                @Override
                public void guard(Path root) throws IOException {
                    tries.add(root.toString());
                    if (guardFails.get()) {
                        throw new IOException("refused");
                    }
                }

                @Override
                public void unguard(Path root) {
                }
            },
            id -> Optional.of(new WorkloadMetadata("p", "ns", "uid", Map.of(), "c", "i", null)),
            policy::get,
            new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), Clock.systemUTC(), () -> "id"),
            new LiveContainers() {
                @Override
                public List<LiveContainer> scan() {
                    return List.of(new LiveContainer(RUNNING, 42));
                }

                @Override
                public OptionalInt anchorOf(ContainerId id) {
                    return OptionalInt.of(42);
                }
            });

    @Test
    void theRunningContainersAreGuardedAtStart() throws Exception {
        try (RunningContainerGuarding running = new RunningContainerGuarding(guardian, policy::get, Duration.ofMillis(20))) {
            running.start();
            assertThat(tries).as("guarded before start returns").containsExactly("/proc/42/root");

            Thread.sleep(200);
            assertThat(tries).as("nothing to do while the policy stays").hasSize(1);
        }
    }

    @Test
    void aReloadThatBringsARunningContainerUnderABlockRuleGuardsItWithoutAnExec() throws Exception {
        policy.set(CompiledPolicy.defaultOnly(Action.ALERT));
        try (RunningContainerGuarding running = new RunningContainerGuarding(guardian, policy::get, Duration.ofMillis(20))) {
            running.start();
            assertThat(tries).isEmpty();

            policy.set(CompiledPolicy.defaultOnly(Action.BLOCK));
            Thread.sleep(200);

            assertThat(tries).containsExactly("/proc/42/root");
        }
    }

    @Test
    void aContainerThatCannotBeGuardedIsRetriedWithAGrowingPause() throws Exception {
        guardFails.set(true);
        try (RunningContainerGuarding running = new RunningContainerGuarding(guardian, policy::get, Duration.ofMillis(20))) {
            running.start();
            Thread.sleep(1000);
        }
        // every 20 ms would be about 50 tries; doubling pauses (1, 2, 4, 8, 16, 32 ticks) make about 7
        assertThat(tries.size()).isBetween(4, 12);
        assertThat(guardian.attachFailures()).isEqualTo(tries.size());
    }
}
