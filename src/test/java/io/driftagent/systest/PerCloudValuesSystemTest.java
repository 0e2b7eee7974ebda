package io.driftagent.systest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.systest.chart.ChartRenderer;
import io.driftagent.systest.cluster.CloudNode;
import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.scenario.SystemTestEnvironment;
import io.driftagent.systest.scenario.SystemTestExtension;
import io.driftagent.systest.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * Each per-platform values file of the chart ({@code values-aks.yaml}, {@code values-eks.yaml},
 * {@code values-eks-bottlerocket.yaml}, {@code values-gke.yaml}, whichever exist), installed as its header says onto
 * a node of that cloud (its providerID): the pod is Ready within its startup budget and a workload's drift is
 * alerted with that cloud, account and cluster.
 */
@Tag("e2e")
@ExtendWith(SystemTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PerCloudValuesSystemTest {

    private static final String WORKLOAD_IMAGE = "docker.io/drift-systest/busybox-cloud:1.0";

    private final ContainerdHost containerd = new ContainerdHost("k8s.io");
    private SystemTestEnvironment env;
    private String digest;

    @BeforeAll
    void importTheWorkloadImage(SystemTestEnvironment environment) throws Exception {
        env = environment;
        digest = containerd.importBusybox(Files.createTempDirectory(env.work(), "cloud-workload"), WORKLOAD_IMAGE);
    }

    @AfterAll
    void removeTheWorkloads() {
        containerd.removeAll();
    }

    @TestFactory
    Stream<DynamicTest> withEachCloudsValuesFileTheAgentPodIsReadyOnThatCloudsNodeAndAlertsWithItsCloud()
            throws Exception {
        List<Path> valuesFiles = new ChartRenderer(env.chart()).cloudValuesFiles();
        return valuesFiles.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            String node = ChartPod.newNodeName();
            CloudNode cloud = CloudNode.forValuesFile(file.getFileName().toString(), node);
            // what each file's header says to add on the command line: the cluster's name, EKS's account id
            Path install = Files.writeString(Files.createTempFile(env.work(), "install", ".yaml"),
                    "clusterName: systest-" + cloud.provider() + "\n"
                            + ("aws".equals(cloud.provider()) ? "cloud:\n  account: \"" + cloud.account() + "\"\n" : ""));
            try (ChartPod pod = ChartPod.start(env, node, ChartPod.Options.defaults(node).withValuesFile(file)
                    .withValuesFile(install).withCloud(cloud))) {
                PodAssertions.assertReadyWithinBudget(pod);

                Workload workload = Workload.start(containerd, pod.api(), node, "cloud-" + cloud.provider(),
                        "app-0", WORKLOAD_IMAGE, digest);
                workload.exec(containerd, "cp /bin/busybox /tmp/dropped && /tmp/dropped true; true");
                JsonNode alert = PodAssertions.assertAlertFor(pod, workload, "/tmp/dropped", Duration.ofSeconds(20));
                assertThat(alert.path("cloud").path("provider").asString()).as(alert.toString())
                        .isEqualTo(cloud.provider());
                assertThat(alert.path("cloud").path("account").asString()).as(alert.toString())
                        .isEqualTo(cloud.account());
                assertThat(alert.path("cluster").asString()).isEqualTo("systest-" + cloud.provider());
                containerd.remove(workload.containerId());
            }
        }));
    }
}
