package io.driftagent.systest;

import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.scenario.SystemTestEnvironment;
import io.driftagent.systest.scenario.SystemTestExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hardened nodes (and Docker's {@code --tmpfs} default) mount memory-backed volumes {@code noexec}: the agent's
 * {@code /tmp} is then not exec-able at start. Native stubs must not need it. Service links are off here so that
 * only the {@code /tmp} question is asked.
 */
@Tag("e2e")
@ExtendWith(SystemTestExtension.class)
class NoexecTmpSystemTest {

    @Test
    void aTmpMountedNoexecAtStartDoesNotKeepTheAgentPodFromBecomingReady(SystemTestEnvironment env) throws Exception {
        String node = ChartPod.newNodeName();
        try (ChartPod pod = ChartPod.start(env, node, ChartPod.Options.defaults(node).withServiceLinks(false)
                .withMemoryTmpfsNoexec())) {
            PodAssertions.assertReadyWithinBudget(pod);
        }
    }
}
