package io.driftagent.systest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.scenario.SystemTestEnvironment;
import io.driftagent.systest.scenario.SystemTestExtension;
import io.driftagent.systest.workload.Workload;
import io.fabric8.kubernetes.api.model.Event;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * The chart's pod with default values on an AKS-like node, as {@code helm install drift-agent
 * deploy/helm/drift-agent} gives it: the image, the rendered DaemonSet run as kubelet + containerd would, the mock
 * API server holding this node and two workload pods of real containerd containers. One agent container serves the
 * class; the tests run in order (the policy change last).
 */
@Tag("e2e")
@ExtendWith(SystemTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartPodOnANodeSystemTest {

    private static final String WORKLOAD_IMAGE = "docker.io/drift-systest/busybox:1.0";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);

    private final ContainerdHost containerd = new ContainerdHost("k8s.io");
    private SystemTestEnvironment env;
    private ChartPod pod;
    private Workload shop;
    private Workload payments;

    @BeforeAll
    void startTheNodeTheWorkloadsAndTheAgentPod(SystemTestEnvironment environment) throws Exception {
        env = environment;
        String node = ChartPod.newNodeName();
        Path work = Files.createTempDirectory(env.work(), "workload");
        String digest = containerd.importBusybox(work, WORKLOAD_IMAGE);
        pod = ChartPod.start(env, node, ChartPod.Options.defaults(node));
        shop = Workload.start(containerd, pod.api(), node, "shop", "web-0", WORKLOAD_IMAGE, digest);
        payments = Workload.start(containerd, pod.api(), node, "payments", "api-0", WORKLOAD_IMAGE, digest);
    }

    @AfterAll
    void stopEverything() {
        try {
            if (pod != null) {
                System.out.println(pod.container().diagnostics());
                pod.close();
            }
        } finally {
            containerd.removeAll();
        }
    }

    @Test
    @Order(1)
    void theAgentPodIsReadyWithinItsStartupProbesBudget() throws Exception {
        PodAssertions.assertReadyWithinBudget(pod);
    }

    @Test
    @Order(2)
    void aWorkloadsDriftExecIsAnAlertLineOnTheAgentsStdoutWithItsPodAndAnEventOnTheApiServer() throws Exception {
        shop.exec(containerd, "/bin/ls / > /dev/null");
        shop.exec(containerd, "cp /bin/busybox /tmp/wget && /tmp/wget --help > /dev/null 2>&1; true");
        long execDone = System.nanoTime();

        JsonNode alert = PodAssertions.assertAlertFor(pod, shop, "/tmp/wget", ALERT_WAIT);
        System.out.printf("systest: workload drift exec -> alert line in docker logs: %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - execDone));
        assertThat(alert.path("alertType").asString()).isEqualTo("BinaryDrift");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("pod").path("name").asString()).isEqualTo(shop.podName());
        assertThat(alert.path("pod").path("namespace").asString()).isEqualTo(shop.namespace());
        assertThat(alert.path("pod").path("uid").asString()).isEqualTo(shop.podUid());
        assertThat(alert.path("node").asString()).isEqualTo(pod.nodeName());
        assertThat(alert.path("cloud").path("provider").asString()).as("from the node's providerID")
                .isEqualTo("azure");
        // provenance in the pod: the writer, seen by the write tracking of the pod's agent (busybox's sh forks and
        // runs its cp applet without an exec: the writer is that child, named by the shell's image and command line),
        // the exec session the shell came from, and that shell as an ancestor
        JsonNode origin = alert.path("drift").path("origin");
        assertThat(origin.path("exe").asString()).as(alert.toString()).isEqualTo("/bin/busybox");
        assertThat(origin.path("cmdline").toString()).as(alert.toString()).contains("cp /bin/busybox /tmp/wget");
        assertThat(origin.path("pid").asInt()).as(alert.toString()).isPositive();
        assertThat(alert.path("process").path("session").path("kind").asString()).as(alert.toString())
                .isEqualTo("exec");
        assertThat(alert.path("process").path("ancestors").path(0).path("cmdline").path(0).asString())
                .as(alert.toString()).endsWith("sh");
        Optional<Event> event = awaitEvent(shop, "/tmp/wget", ALERT_WAIT);
        assertThat(event).as("a Kubernetes Event on the workload's pod").isPresent();
        assertThat(event.get().getInvolvedObject().getUid()).isEqualTo(shop.podUid());
        assertThat(event.get().getType()).isEqualTo("Warning");
    }

    @Test
    @Order(3)
    void theImagesOwnBinariesGiveNoAlert() throws Exception {
        shop.exec(containerd, "/bin/ls / > /dev/null; /usr/bin/tool true; /usr/bin/victim > /dev/null; "
                + "/opt/app/run.sh 0");

        List<JsonNode> alerts = alertsUpToAControlDrift(shop, "/tmp/control-image");

        List<String> imageBinaries = List.of("/bin/ls", "/bin/busybox", "/usr/bin/tool", "/usr/bin/victim",
                "/opt/app/run.sh");
        List<JsonNode> onImageBinaries = alerts.stream().filter(AlertPredicates.ofContainer(shop))
                .filter(a -> imageBinaries.contains(a.path("drift").path("path").asString(""))).toList();
        assertThat(onImageBinaries).as("alerts on the image's own binaries of %s", shop.containerId()).isEmpty();
    }

    @Test
    @Order(4)
    void hostProcessesGiveNoAlert() throws Exception {
        // a shell loop of ls, head, touch and mv, a binary dropped on the host, docker and runc: all children of one
        // host shell, none of them in a container (other containers on this machine may alert: not these)
        Path scratch = Files.createTempDirectory(env.work(), "host");
        Path hostDrift = scratch.resolve("host-drift");
        Files.copy(Path.of("/bin/busybox"), hostDrift);
        hostDrift.toFile().setExecutable(true);
        String out = HostCommands.run("sh", "-c", "echo shell=$$; for i in 1 2 3 4 5; do ls / > /dev/null; "
                + "head -c 10 /etc/os-release > /dev/null; touch " + scratch + "/a; mv " + scratch + "/a " + scratch
                + "/b; done; " + hostDrift + " true; docker ps -q > /dev/null; runc --version > /dev/null; true");
        int shell = Integer.parseInt(out.lines().filter(l -> l.startsWith("shell=")).findFirst().orElseThrow()
                .substring("shell=".length()).trim());

        List<JsonNode> alerts = alertsUpToAControlDrift(payments, "/tmp/control-host");

        List<JsonNode> onHostProcesses = alerts.stream()
                .filter(a -> a.path("process").path("pid").asInt() == shell
                        || a.path("process").path("ppid").asInt() == shell
                        || a.path("drift").path("path").asString("").startsWith(scratch.toString()))
                .toList();
        assertThat(onHostProcesses).as("alerts on the host shell %d and its children (kinds %s)", shell,
                onHostProcesses.stream().map(a -> a.path("drift").path("kind").asString())
                        .collect(Collectors.toSet())).isEmpty();
    }

    @Test
    @Order(5)
    void inThePodAWorkloadsKnownImageExecsStayInTheKernelAndADropUnderKeptShellsIsAlerted() throws Exception {
        // given the shop's root known to the agent (its earlier execs), a session shell that runs 50 leaf image execs
        // (busybox by its own name: the shell must exec it) and a shell under it that runs a drop
        String kept = "reason=\"image_file_kept_in_kernel\"";
        double before = sample(pod.get("http", "/metrics").body(), "drift_pipeline_stopped_early_total", kept);
        shop.exec(containerd, "for i in $(seq 50); do /bin/busybox true; done; "
                + "/bin/busybox sh -c 'cp /bin/busybox /tmp/keptdrop && /tmp/keptdrop true; true'; true");

        // then the drop is alerted with both shells as its ancestors, and the leaves were kept in the kernel
        JsonNode alert = PodAssertions.assertAlertFor(pod, shop, "/tmp/keptdrop", ALERT_WAIT);
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("process").path("ancestors")).as(alert.toString()).hasSize(2);
        assertThat(alert.path("process").path("ancestors").path(0).path("cmdline").toString()).as(alert.toString())
                .contains("/tmp/keptdrop");
        // (all 50 when the shop's root is known from the earlier tests; a few fewer when this one runs alone: the
        // first leaves are sent until the pipeline has learned the root)
        double after = awaitMetricAbove("drift_pipeline_stopped_early_total", kept, before + 44, ALERT_WAIT);
        assertThat(after - before).as("image execs kept in the pod's kernel program").isGreaterThanOrEqualTo(45);
    }

    @Test
    @Order(6)
    void metricsScrapedThroughTheContainerPortAreValidPrometheusText() throws Exception {
        HttpResponse<String> metrics = pod.get("http", "/metrics");

        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(promtoolProblems(metrics.body())).as("promtool check metrics").isEmpty();
        assertThat(metrics.body()).contains("drift_alerts_total");
    }

    @Test
    @Order(7)
    void aPolicyConfigMapChangeIsAppliedWithoutARestart() throws Exception {
        String startedAt = pod.container().startedAt();
        double reloadsBefore = sample(pod.get("http", "/metrics").body(), "drift_policy_reloads_total",
                "result=\"success\"");
        String configMap = pod.policyConfigMapName();
        String policy = """
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: ignore-shop
                    priority: 1
                    description: the shop team's drift is accepted
                    action: ignore
                    resourceScope:
                      - field: namespace
                        operator: equals
                        values: ["shop"]
                defaultRule:
                  action: alert
                """;

        pod.updateConfigMap(configMap, Map.of("policy.yaml", policy));
        double reloadsAfter = awaitMetricAbove("drift_policy_reloads_total", "result=\"success\"", reloadsBefore,
                Duration.ofSeconds(15));
        shop.exec(containerd, "cp /bin/busybox /tmp/ignored && /tmp/ignored true; true");
        payments.exec(containerd, "cp /bin/busybox /tmp/alerted && /tmp/alerted true; true");

        assertThat(reloadsAfter).as("a successful policy reload counted").isGreaterThan(reloadsBefore);
        assertThat(pod.awaitAlert(AlertPredicates.forPath(payments, "/tmp/alerted"), ALERT_WAIT))
                .as("the payments namespace still alerts").isPresent();
        assertThat(pod.alerts()).as("the shop namespace is ignored by the new rule")
                .noneMatch(AlertPredicates.forPath(shop, "/tmp/ignored"));
        assertThat(pod.container().running()).isTrue();
        assertThat(pod.container().startedAt()).as("the container was not restarted").isEqualTo(startedAt);
    }

    // --- helpers ---

    /**
     * A "no alert" is only worth something from an agent that is detecting: a drift exec in {@code workload} after
     * the execs under test must be alerted (the pipeline is FIFO, and a settle time covers attribution retries);
     * returns every alert up to then.
     */
    private List<JsonNode> alertsUpToAControlDrift(Workload workload, String path) throws Exception {
        Thread.sleep(1_000);
        workload.exec(containerd, "cp /bin/busybox " + path + " && " + path + " true; true");
        assertThat(pod.awaitAlert(AlertPredicates.forPath(workload, path), ALERT_WAIT))
                .as("the control drift %s is alerted: the agent is detecting; %s", path,
                        pod.container().diagnostics()).isPresent();
        return pod.alerts();
    }

    private Optional<Event> awaitEvent(Workload workload, String path, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            Optional<Event> found = pod.api().v1().events().inNamespace(workload.namespace()).list().getItems()
                    .stream().filter(e -> workload.podName().equals(e.getInvolvedObject().getName()))
                    .filter(e -> e.getMessage() != null && e.getMessage().contains(path))
                    .findFirst();
            if (found.isPresent()) {
                return found;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    private double awaitMetricAbove(String name, String labels, double floor, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        double value = sample(pod.get("http", "/metrics").body(), name, labels);
        while (value <= floor && System.nanoTime() < deadline) {
            Thread.sleep(250);
            value = sample(pod.get("http", "/metrics").body(), name, labels);
        }
        return value;
    }

    static double sample(String exposition, String name, String labels) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(name + "{") && line.contains(labels) || line.startsWith(name + " ")
                    && labels.isEmpty()) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no sample " + name + "{" + labels + "} in:\n" + exposition);
    }

    private List<String> promtoolProblems(String exposition) throws Exception {
        Path file = Files.writeString(Files.createTempFile(env.work(), "metrics", ".txt"), exposition);
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        return promtool.exitValue() == 0 ? List.of() : List.of(output.split("\n"));
    }
}
