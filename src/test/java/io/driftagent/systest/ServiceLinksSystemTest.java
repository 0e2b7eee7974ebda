package io.driftagent.systest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.scenario.SystemTestEnvironment;
import io.driftagent.systest.scenario.SystemTestExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * kubelet injects the service links of every Service in the namespace into the pod's env unless the pod spec says
 * {@code enableServiceLinks: false}; the chart's own Service {@code drift-agent} yields {@code DRIFT_AGENT_*}
 * variables, which look like the agent's settings. The agent must become Ready both ways.
 */
@Tag("e2e")
@ExtendWith(SystemTestExtension.class)
class ServiceLinksSystemTest {

    @Test
    void withServiceLinksDisabledTheAgentPodBecomesReady(SystemTestEnvironment env) throws Exception {
        String node = ChartPod.newNodeName();
        try (ChartPod pod = ChartPod.start(env, node, ChartPod.Options.defaults(node).withServiceLinks(false))) {
            assertThat(pod.run().env()).doesNotContainKey("DRIFT_AGENT_SERVICE_HOST")
                    .containsKey("KUBERNETES_SERVICE_HOST");

            PodAssertions.assertReadyWithinBudget(pod);
        }
    }

    @Test
    void withTheServiceLinksOfItsOwnDriftAgentServiceInjectedTheAgentPodStillBecomesReady(SystemTestEnvironment env)
            throws Exception {
        String node = ChartPod.newNodeName();
        try (ChartPod pod = ChartPod.start(env, node, ChartPod.Options.defaults(node).withServiceLinks(true))) {
            assertThat(pod.run().env()).as("kubelet's links for the Service drift-agent")
                    .containsKeys("DRIFT_AGENT_SERVICE_HOST", "DRIFT_AGENT_PORT", "DRIFT_AGENT_PORT_9742_TCP");

            PodAssertions.assertReadyWithinBudget(pod);
        }
    }
}
