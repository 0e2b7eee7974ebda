package io.driftagent.systest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.scenario.SystemTestEnvironment;
import io.driftagent.systest.scenario.SystemTestExtension;
import io.driftagent.systest.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * The fanotify fallback source (`agent.source: fanotify`, what `auto` falls back to on a kernel without BPF) in the
 * chart's pod: the agent's own mount namespace is the pod's, so marking its own root would watch only the pod. It
 * must watch the node's filesystems: the pod becomes Ready (its self-test canary is seen) and a workload's drift is
 * alerted.
 */
@Tag("e2e")
@ExtendWith(SystemTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FanotifySourceSystemTest {

    private static final String WORKLOAD_IMAGE = "docker.io/drift-systest/busybox-fanotify:1.0";

    private final ContainerdHost containerd = new ContainerdHost("k8s.io");
    private SystemTestEnvironment env;
    private String digest;

    @BeforeAll
    void importTheWorkloadImage(SystemTestEnvironment environment) throws Exception {
        env = environment;
        digest = containerd.importBusybox(Files.createTempDirectory(env.work(), "fanotify-workload"), WORKLOAD_IMAGE);
    }

    @AfterAll
    void removeTheWorkloads() {
        containerd.removeAll();
    }

    @Test
    void withTheFanotifySourceThePodIsReadyAndAWorkloadsDriftIsAlerted() throws Exception {
        String node = ChartPod.newNodeName();
        Path fanotify = Files.writeString(Files.createTempFile(env.work(), "fanotify", ".yaml"),
                "agent:\n  source: fanotify\n");
        try (ChartPod pod = ChartPod.start(env, node, ChartPod.Options.defaults(node).withValuesFile(fanotify))) {
            PodAssertions.assertReadyWithinBudget(pod);

            Workload workload = Workload.start(containerd, pod.api(), node, "fanotify", "app-0", WORKLOAD_IMAGE,
                    digest);
            workload.exec(containerd, "cp /bin/busybox /tmp/dropped && /tmp/dropped true; true");
            JsonNode alert = PodAssertions.assertAlertFor(pod, workload, "/tmp/dropped", Duration.ofSeconds(20));
            assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
            assertThat(alert.path("pod").path("name").asString()).isEqualTo("app-0");
            containerd.remove(workload.containerId());
        }
    }
}
