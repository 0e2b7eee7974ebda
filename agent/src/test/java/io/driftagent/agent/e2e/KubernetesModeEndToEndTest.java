package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.kubernetes.CrudApiServer;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * The whole agent in Kubernetes mode, for real: the eBPF (or fanotify) source on this kernel, a real containerd
 * container in a kubepods cgroup, and fabric8's mock API server (CRUD) holding that container's Pod and this node
 * (with an Azure providerID). One agent serves the class; the tests run in order, the API-server outage last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag(TestTiers.E2E)
class KubernetesModeEndToEndTest {

    private static final String NAMESPACE = "shop-e2e";
    private static final String IMAGE = "docker.io/drift-e2e/busybox:1.0";
    private static final String CLUSTER = "e2e-cluster";
    private static final String SUBSCRIPTION = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    private static final Map<String, String> LABELS = Map.of("app", "web", "tier", "front");
    private static final byte[] SECRET = "e2e-webhook-secret".getBytes(StandardCharsets.UTF_8);
    private static final Duration ALERT_WAIT = Duration.ofSeconds(15);
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: block-in-payments
                priority: 5
                description: "Drift in the payments namespace is blocked"
                action: block
                resourceScope:
                  - field: namespace
                    operator: equals
                    values: ["payments"]
              - name: alert-in-shop
                priority: 10
                description: "Drift in the shop namespace is alerted"
                action: alert
                resourceScope:
                  - field: namespace
                    operator: equals
                    values: ["%s"]
            defaultRule:
              action: ignore
            """.formatted(NAMESPACE);

    private final String node = "e2e-node-" + ThreadLocalRandom.current().nextInt(1_000_000);
    private final String podName = "web-" + ThreadLocalRandom.current().nextInt(1_000_000);
    private final String containerId = ContainerdHost.randomContainerId();
    private final ContainerdHost containerd = new ContainerdHost("drift-e2e");

    private Path work;
    private CrudApiServer api;
    private boolean apiStopped;
    private KubernetesClient testClient;
    private WebhookReceiver webhook;
    private AlertLog alerts;
    private RunningAgent agent;
    private String podUid;
    private String imageDigest;

    @BeforeAll
    void startTheClusterTheContainerAndTheAgent() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: the agent loads BPF or marks filesystems; containerd");
        assumeTrue(ContainerdHost.available(), "containerd is not running (scripts/host-setup.sh starts it)");
        assumeTrue(BusyboxImage.available(), "needs busybox-static at /bin/busybox");
        work = Files.createTempDirectory("drift-e2e-k8s");
        imageDigest = containerd.importBusybox(work, IMAGE);

        api = CrudApiServer.started();
        testClient = api.server().createClient();
        testClient.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata()
                .withNewSpec().withProviderID("azure:///subscriptions/" + SUBSCRIPTION.toUpperCase()
                        + "/resourceGroups/mc_rg_e2e/providers/Microsoft.Compute/virtualMachineScaleSets/"
                        + "aks-nodepool1-1/virtualMachines/0").endSpec().build()).create();
        Pod pod = testClient.pods().inNamespace(NAMESPACE).resource(pod(UUID.randomUUID().toString())).create();
        podUid = pod.getMetadata().getUid();
        containerd.runInPod(IMAGE, containerId, podUid);

        webhook = new WebhookReceiver();
        Path secret = work.resolve("webhook-secret");
        Files.write(secret, (new String(SECRET, StandardCharsets.UTF_8) + "\n").getBytes(StandardCharsets.UTF_8));
        Path policy = Files.writeString(work.resolve("policy.yaml"), POLICY);
        alerts = new AlertLog(work.resolve("alerts.jsonl"));
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.NODE_NAME, node);
        flags.put(Setting.CLUSTER_NAME, CLUSTER);
        flags.put(Setting.POLICY_FILE, policy.toString());
        flags.put(Setting.ALERTS_TARGET, alerts.file().toString());
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        flags.put(Setting.WEBHOOK_URL, webhook.url().toString());
        flags.put(Setting.WEBHOOK_SECRET_FILE, secret.toString());
        flags.put(Setting.WEBHOOK_TIMEOUT, "10s"); // a sink that waited on it would be obvious
        flags.put(Setting.KUBERNETES_EVENTS, "true");
        flags.put(Setting.DEDUP_WINDOW, "0s");
        agent = RunningAgent.start(flags, config -> api.server().createClient());
    }

    @AfterAll
    void stopEverything() {
        if (agent != null) {
            agent.close();
        }
        if (webhook != null) {
            webhook.close();
        }
        if (testClient != null) {
            testClient.close();
        }
        if (api != null && !apiStopped) {
            stopApiServer();
        }
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    @Order(6)
    void aContainerWhosePodTheApiServerDoesNotKnowIsBlockedFromItsBundleAnnotations() throws Exception {
        // a pod the informer has not heard of (as in the seconds after a container starts): its namespace comes
        // from the CRI annotations of the container's containerd bundle
        String unknownPodUid = UUID.randomUUID().toString();
        String blockedId = ContainerdHost.randomContainerId();
        containerd.runAsCriContainer(IMAGE, blockedId, unknownPodUid, "api-0", "payments", "api");
        containerd.exec(blockedId, "/bin/ls / > /dev/null"); // the agent sees the container: it is guarded
        Thread.sleep(1000);

        String out = containerd.exec(blockedId, "/bin/ls / > /dev/null && echo image-ran; "
                + "cp /bin/busybox /tmp/miner && /tmp/miner --help > /dev/null 2>&1; echo miner-rc=$?");

        assertThat(out).contains("image-ran").contains("miner-rc=126");
        JsonNode alert = alerts.await(AlertLog.forPath(blockedId, "/tmp/miner"), ALERT_WAIT).orElseThrow(
                () -> new AssertionError("no alert for /tmp/miner in " + alerts));
        assertThat(alert.path("alertType").asString()).isEqualTo("BinaryDriftBlocked");
        assertThat(alert.path("rule").path("name").asString()).as(alert.toString()).isEqualTo("block-in-payments");
        assertThat(alert.path("pod").path("namespace").asString()).as("from the bundle, the informer never heard of it")
                .isEqualTo("payments");
        assertThat(alert.path("pod").path("name").asString()).isEqualTo("api-0");
    }

    @Test
    @Order(1)
    void aDroppedBinaryIsAlertedWithPodCloudAndClusterToTheFileAnEventAndASignedWebhookButAnImageBinaryIsNot()
            throws Exception {
        assertThat(agent.awaitReady(Duration.ofSeconds(30)).status()).as("ready before the execs").isEqualTo(200);

        containerd.exec(containerId, "/bin/ls / > /dev/null");
        containerd.exec(containerId, "cp /bin/busybox /tmp/wget && /tmp/wget --help > /dev/null 2>&1; true");
        long execDone = System.nanoTime();

        JsonNode alert = alerts.await(AlertLog.forPath(containerId, "/tmp/wget"), ALERT_WAIT).orElseThrow(
                () -> new AssertionError("no alert for /tmp/wget in " + alerts));
        System.out.printf("e2e: first drift of a pod container: ctr exec returned -> JSON line %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - execDone));
        assertThat(alert.path("alertType").asString()).isEqualTo("BinaryDrift");
        assertThat(alert.path("action").asString()).isEqualTo("alert");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("drift").path("sha256").asString()).hasSize(64);
        assertThat(alert.path("rule").path("name").asString()).isEqualTo("alert-in-shop");
        assertThat(alert.path("process").path("pid").asInt()).isPositive();
        JsonNode container = alert.path("container");
        assertThat(container.path("name").asString()).isEqualTo("app");
        assertThat(container.path("runtime").asString()).isEqualTo("containerd");
        assertThat(container.path("image").asString()).isEqualTo(IMAGE);
        assertThat(container.path("imageDigest").asString()).isEqualTo(imageDigest);
        JsonNode pod = alert.path("pod");
        assertThat(pod.path("name").asString()).isEqualTo(podName);
        assertThat(pod.path("namespace").asString()).isEqualTo(NAMESPACE);
        assertThat(pod.path("uid").asString()).isEqualTo(podUid);
        assertThat(pod.path("labels").path("app").asString()).isEqualTo("web");
        assertThat(pod.path("labels").path("tier").asString()).isEqualTo("front");
        assertThat(alert.path("node").asString()).isEqualTo(node);
        assertThat(alert.path("cluster").asString()).isEqualTo(CLUSTER);
        assertThat(alert.path("cloud").path("provider").asString()).isEqualTo("azure");
        assertThat(alert.path("cloud").path("account").asString()).isEqualTo(SUBSCRIPTION);

        assertThat(alerts.alerts()).as("the image's own /bin/ls is no drift")
                .noneMatch(AlertLog.forPath(containerId, "/bin/ls"));
        assertThat(awaitEventFor("/tmp/wget", ALERT_WAIT)).as("a Kubernetes Event on the pod").isPresent()
                .get().satisfies(event -> {
                    assertThat(event.getInvolvedObject().getKind()).isEqualTo("Pod");
                    assertThat(event.getInvolvedObject().getUid()).isEqualTo(podUid);
                    assertThat(event.getType()).isEqualTo("Warning");
                    assertThat(event.getReason()).isEqualTo("BinaryDrift");
                });
        WebhookReceiver.Delivery delivery = awaitDelivery(alert.path("id").asString(), ALERT_WAIT)
                .orElseThrow(() -> new AssertionError("the webhook got no request for alert " + alert.path("id")));
        assertThat(delivery.signedWith(SECRET)).as("valid HMAC-SHA256 signature").isTrue();
        assertThat(delivery.signedWith("another secret".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(AlertLog.parse(delivery.text())).as("the same alert as the JSON line").isEqualTo(alert);
    }

    @Test
    @Order(2)
    void readinessReportsEveryCheckAndTheMetricsAreValidPrometheusTextWithTheCounts() throws Exception {
        RunningAgent.Response ready = agent.awaitReady(Duration.ofSeconds(30));
        assertThat(ready.status()).as(ready.body()).isEqualTo(200);
        JsonNode checks = AlertLog.parse(ready.body()).path("checks");
        for (String check : List.of("informer", "self-test", "source", "policy", "pipeline")) {
            assertThat(checks.path(check).path("ready").asBoolean()).as(check + " in " + ready.body()).isTrue();
        }

        RunningAgent.Response metrics = agent.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(PrometheusExposition.promtoolProblems(metrics.body(), work)).as("promtool check metrics").isEmpty();
        long alertLines = alerts.alerts().size();
        assertThat(alertLines).isPositive();
        assertThat(PrometheusExposition.sample(metrics.body(), "drift_alerts_total", "type=\"BinaryDrift\""))
                .as("alerts counted; only this test's namespace alerts").isEqualTo(alertLines);
        assertThat(PrometheusExposition.sample(metrics.body(), "drift_verdicts_total",
                "action=\"alert\",kind=\"ADDED\""))
                .isEqualTo(alertLines);
        assertThat(PrometheusExposition.sample(metrics.body(), "drift_informer_state", "")).as("1 = synced")
                .isEqualTo(1);
        assertThat(PrometheusExposition.sample(metrics.body(), "drift_informer_containers", "")).isEqualTo(1);
        assertThat(PrometheusExposition.sample(metrics.body(), "drift_informer_synced", "")).as("documented in alerts.md")
                .isEqualTo(1);
        assertThat(PrometheusExposition.sample(metrics.body(), "drift_source_delivered_total", "source=\"auto\""))
                .isPositive();
    }

    @Test
    @Order(3)
    void aHangingWebhookDelaysNeitherTheAlertLineNorTheKubernetesEvent() throws Exception {
        webhook.hang();
        try {
            containerd.exec(containerId, "cp /bin/busybox /tmp/nc && /tmp/nc --help > /dev/null 2>&1; true");
            awaitCondition(() -> webhook.held().stream().anyMatch(d -> d.text().contains("/tmp/nc")), ALERT_WAIT);
            assertThat(webhook.held()).as("the webhook got the first alert and is hanging on it")
                    .anyMatch(d -> d.text().contains("/tmp/nc"));

            containerd.exec(containerId, "cp /bin/busybox /tmp/nc2 && /tmp/nc2 --help > /dev/null 2>&1; true");
            long execDone = System.nanoTime();
            Optional<JsonNode> alert = alerts.await(AlertLog.forPath(containerId, "/tmp/nc2"), Duration.ofSeconds(2));
            long alertMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - execDone);
            Optional<Event> event = awaitEventFor("/tmp/nc2", Duration.ofSeconds(2));
            long eventMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - execDone);

            assertThat(alert).as("the JSON line within 2 s of the exec, the webhook hanging").isPresent();
            assertThat(alertMillis).isLessThan(2_000);
            assertThat(event).as("the Event within 2 s of the exec, the webhook hanging").isPresent();
            assertThat(eventMillis).isLessThan(4_000);
            System.out.printf("e2e: with a hanging webhook, exec -> JSON line %d ms, exec -> Event visible %d ms%n",
                    alertMillis, eventMillis);
        } finally {
            webhook.answerAgain();
        }
    }

    @Test
    @Order(4)
    void withTheApiServerGoneAlertsKeepFlowingWithCachedPodMetadataAndReadinessSaysTheInformerIsNotSynced()
            throws Exception {
        stopApiServer();

        RunningAgent.Response notReady = awaitReadiness(503, Duration.ofSeconds(20));
        containerd.exec(containerId, "cp /bin/busybox /tmp/curl && /tmp/curl --help > /dev/null 2>&1; true");

        JsonNode alert = alerts.await(AlertLog.forPath(containerId, "/tmp/curl"), ALERT_WAIT).orElseThrow(
                () -> new AssertionError("no alert for /tmp/curl during the outage in " + alerts));
        assertThat(alert.path("pod").path("name").asString()).isEqualTo(podName);
        assertThat(alert.path("pod").path("namespace").asString()).isEqualTo(NAMESPACE);
        assertThat(alert.path("container").path("imageDigest").asString()).isEqualTo(imageDigest);
        assertThat(notReady.status()).as(notReady.body()).isEqualTo(503);
        JsonNode informer = AlertLog.parse(notReady.body()).path("checks").path("informer");
        assertThat(informer.path("ready").asBoolean()).isFalse();
        assertThat(informer.path("reason").asString()).contains("pod informer");
        assertThat(PrometheusExposition.sample(agent.get("/metrics").body(), "drift_informer_state", ""))
                .as("2 = disconnected").isEqualTo(2);
    }

    @Test
    @Order(5)
    void whenTheApiServerIsBackTheInformerRelistsAndTheAgentIsReadyAgain() throws Exception {
        int port = api.server().getPort();
        api = CrudApiServer.startedOn(port);
        apiStopped = false;
        try (KubernetesClient restored = api.server().createClient()) {
            restored.pods().inNamespace(NAMESPACE).resource(pod(podUid)).create();
        }

        RunningAgent.Response ready = awaitReadiness(200, Duration.ofSeconds(45));

        assertThat(ready.status()).as(ready.body()).isEqualTo(200);
        assertThat(PrometheusExposition.sample(agent.get("/metrics").body(), "drift_informer_state", ""))
                .as("1 = synced").isEqualTo(1);
    }

    // --- helpers ---

    private Pod pod(String uid) {
        return new PodBuilder()
                .withNewMetadata().withName(podName).withNamespace(NAMESPACE).withUid(uid).withLabels(LABELS)
                .endMetadata()
                .withNewSpec().withNodeName(node)
                .addNewContainer().withName("app").withImage(IMAGE).endContainer()
                .endSpec()
                .withNewStatus().withPhase("Running")
                .addToContainerStatuses(new ContainerStatusBuilder().withName("app")
                        .withContainerID("containerd://" + containerId).withImage(IMAGE)
                        .withImageID("docker.io/drift-e2e/busybox@" + imageDigest).withReady(true)
                        .withRestartCount(0).build())
                .endStatus()
                .build();
    }

    private Optional<Event> awaitEventFor(String path, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            Optional<Event> found = testClient.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
                    .filter(e -> podName.equals(e.getInvolvedObject().getName()))
                    .filter(e -> e.getMessage() != null && e.getMessage().contains(path + " "))
                    .findFirst();
            if (found.isPresent()) {
                return found;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    private Optional<WebhookReceiver.Delivery> awaitDelivery(String alertId, Duration timeout)
            throws InterruptedException {
        awaitCondition(() -> webhook.deliveries().stream().anyMatch(d -> d.text().contains(alertId)), timeout);
        return webhook.deliveries().stream().filter(d -> d.text().contains(alertId)).findFirst();
    }

    private RunningAgent.Response awaitReadiness(int status, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        RunningAgent.Response last = agent.get("/readyz");
        while (last.status() != status && System.nanoTime() < deadline) {
            Thread.sleep(100);
            last = agent.get("/readyz");
        }
        return last;
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private void stopApiServer() {
        apiStopped = true;
        try {
            api.server().destroy();
        } catch (IllegalStateException slowClose) {
            // the mock's vert.x server may exceed its own close timeout on a loaded machine; it is stopping anyway
            System.err.println("mock API server close: " + slowClose.getMessage());
        }
    }
}
