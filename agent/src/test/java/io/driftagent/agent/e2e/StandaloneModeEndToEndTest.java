package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The whole agent standalone ({@code standalone=true}: no Kubernetes), for real: the kernel's exec source, real
 * containerd containers (a plain {@code ctr run} one and one carrying the CRI annotations a kubelet's containerd
 * writes) and a real Docker container; workload metadata comes from the runtimes' own state. One agent serves the
 * class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class StandaloneModeEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:standalone";
    private static final byte[] SECRET = "standalone-secret".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    private static final Duration ALERT_WAIT = Duration.ofSeconds(15);
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: payments-team
                priority: 10
                description: "Workloads labelled team=payments"
                action: alert
                resourceScope:
                  - field: podLabels
                    operator: equals
                    values: ["team=payments"]
            defaultRule:
              action: alert
            """;

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private final String plainName = "drift-e2e-plain-" + suffix;
    private final String criId = ContainerdHost.randomContainerId();
    private final String criPodUid = UUID.randomUUID().toString();
    private final String dockerImage = "drift-e2e-busybox:" + suffix;
    private final String dockerName = "drift-e2e-docker-" + suffix;
    private final ContainerdHost containerd = new ContainerdHost("drift-e2e");

    private Path work;
    private boolean dockerStarted;
    private String dockerId;
    private AlertLog alerts;
    private RunningAgent agent;
    private WebhookReceiver webhook;

    @BeforeAll
    void startTheContainersAndTheAgent() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: the agent loads BPF or marks filesystems; containerd");
        assumeTrue(ContainerdHost.available(), "containerd is not running (scripts/host-setup.sh starts it)");
        assumeTrue(BusyboxImage.available(), "needs busybox-static at /bin/busybox");
        work = Files.createTempDirectory("drift-e2e-standalone");
        containerd.importBusybox(work, IMAGE);
        containerd.run(IMAGE, plainName);
        containerd.runAsCriContainer(IMAGE, criId, criPodUid, "web-standalone", "shop", "app");
        if (HostCommands.works("docker", "info")) {
            HostCommands.run("docker", "build", "-q", "-t", dockerImage,
                    BusyboxImage.writeDockerContext(work.resolve("docker")).toString());
            dockerId = HostCommands.run("docker", "run", "-d", "--network", "none", "--name", dockerName,
                    "--label", "team=payments", dockerImage).strip();
            dockerStarted = true;
        }

        Path policy = Files.writeString(work.resolve("policy.yaml"), POLICY);
        alerts = new AlertLog(work.resolve("alerts.jsonl"));
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.STANDALONE, "true");
        flags.put(Setting.SOURCE, source());
        flags.put(Setting.POLICY_FILE, policy.toString());
        flags.put(Setting.ALERTS_TARGET, alerts.file().toString());
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        flags.put(Setting.DEDUP_WINDOW, "0s");
        webhook = new WebhookReceiver();
        Path secret = Files.write(work.resolve("webhook-secret"), SECRET);
        flags.put(Setting.WEBHOOK_URL, webhook.url().toString());
        flags.put(Setting.WEBHOOK_SECRET_FILE, secret.toString());
        flags.put(Setting.KUBERNETES_EVENTS, "true");
        agent = RunningAgent.start(flags, config -> {
            throw new AssertionError("standalone mode must not build a Kubernetes client");
        });
        if (selfTestPassesWithThisSource()) {
            RunningAgent.Response ready = agent.awaitReady(Duration.ofSeconds(30));
            assertThat(ready.status()).as(ready.body()).isEqualTo(200);
        }
    }

    /** The exec source asked for: {@code auto} takes eBPF here. */
    String source() {
        return "auto";
    }

    /** Whether the agent is expected ready (self-test passed) before the scenarios run. */
    boolean selfTestPassesWithThisSource() {
        return true;
    }

    RunningAgent agent() {
        return agent;
    }

    @AfterAll
    void stopEverything() {
        if (agent != null) {
            agent.close();
        }
        if (webhook != null) {
            webhook.close();
        }
        if (dockerStarted) {
            HostCommands.quietly("docker", "rm", "-f", dockerName);
        }
        if (work != null) {
            HostCommands.quietly("docker", "rmi", "-f", dockerImage);
        }
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void aPlainCtrRunContainersDroppedBinaryIsAlertedWithItsNameAndImageFromContainerd() throws Exception {
        containerd.exec(plainName, "/bin/ls / > /dev/null");
        containerd.exec(plainName, "cp /bin/busybox /tmp/wget && /tmp/wget --help > /dev/null 2>&1; true");

        JsonNode alert = awaitAlert(plainName, "/tmp/wget");

        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("container").path("runtime").asString()).isEqualTo("containerd");
        assertThat(alert.path("container").path("name").asString()).isEqualTo(plainName);
        assertThat(alert.path("container").path("image").asString()).as(alert.toString()).isEqualTo(IMAGE);
        assertThat(alerts.alerts()).as("the image's own /bin/ls is no drift")
                .noneMatch(AlertLog.forPath(plainName, "/bin/ls"));
    }

    @Test
    void aCriAnnotatedContainersDroppedBinaryIsAlertedWithThePodFromItsBundleAnnotations() throws Exception {
        containerd.exec(criId, "/bin/ls / > /dev/null");
        containerd.exec(criId, "cp /bin/busybox /tmp/nc && /tmp/nc --help > /dev/null 2>&1; true");

        JsonNode alert = awaitAlert(criId, "/tmp/nc");

        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("container").path("name").asString()).as(alert.toString()).isEqualTo("app");
        assertThat(alert.path("container").path("image").asString()).isEqualTo(IMAGE);
        assertThat(alert.path("pod").path("name").asString()).isEqualTo("web-standalone");
        assertThat(alert.path("pod").path("namespace").asString()).isEqualTo("shop");
        assertThat(alert.path("pod").path("uid").asString()).isEqualTo(criPodUid);
        assertThat(alerts.alerts()).noneMatch(AlertLog.forPath(criId, "/bin/ls"));
    }

    @Test
    void aDockerContainersDroppedBinaryIsAlertedWithItsNameAndImageAndItsLabelsMatchThePolicy() throws Exception {
        assumeTrue(dockerStarted, "dockerd is not running (scripts/host-setup.sh starts it)");
        HostCommands.run("docker", "exec", dockerName, "/bin/ls", "/");
        HostCommands.run("docker", "exec", dockerName, "/bin/sh", "-c",
                "cp /bin/busybox /tmp/curl && /tmp/curl --help > /dev/null 2>&1; true");

        JsonNode alert = awaitAlert(dockerId, "/tmp/curl");

        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("container").path("runtime").asString()).isEqualTo("docker");
        assertThat(alert.path("container").path("name").asString()).as(alert.toString()).isEqualTo(dockerName);
        assertThat(alert.path("container").path("image").asString()).isEqualTo(dockerImage);
        assertThat(alert.path("rule").path("name").asString()).as("the Docker label reached the policy")
                .isEqualTo("payments-team");
        assertThat(alert.path("pod").path("labels").path("team").asString()).as("and the alert shows it")
                .isEqualTo("payments");
        assertThat(alert.path("pod").path("name").isNull()).as("no pod outside Kubernetes: %s", alert).isTrue();
        assertThat(alerts.alerts()).noneMatch(AlertLog.forPath(dockerId, "/bin/ls"));
        String id = alert.path("id").asString();
        WebhookReceiver.Delivery delivery = awaitDelivery(id);
        assertThat(delivery.signedWith(SECRET)).as("valid HMAC-SHA256 signature").isTrue();
        assertThat(AlertLog.parse(delivery.text())).isEqualTo(alert);
    }

    @Test
    void theMetricsAreValidPrometheusTextAndCountTheAlertsWritten() throws Exception {
        containerd.exec(plainName, "cp /bin/busybox /tmp/counted && /tmp/counted --help > /dev/null 2>&1; true");
        awaitAlert(plainName, "/tmp/counted");

        long deadline = System.nanoTime() + ALERT_WAIT.toNanos();
        String exposition = agent.get("/metrics").body();
        long lines = alerts.alerts().size();
        while (PrometheusExposition.sample(exposition, "drift_alerts_total", "type=\"BinaryDrift\"") != lines
                && System.nanoTime() < deadline) {
            Thread.sleep(50); // the alert counters (on the dispatcher) and the JSON-lines sink (its lane): let both catch up
            exposition = agent.get("/metrics").body();
            lines = alerts.alerts().size();
        }

        assertThat(PrometheusExposition.promtoolProblems(exposition, work)).as("promtool check metrics").isEmpty();
        assertThat(PrometheusExposition.sample(exposition, "drift_alerts_total", "type=\"BinaryDrift\""))
                .isEqualTo(lines).isPositive();
        assertThat(PrometheusExposition.sample(exposition, "drift_verdicts_total",
                "action=\"alert\",kind=\"ADDED\"")).isPositive();
        assertThat(exposition).doesNotContain("drift_informer_state");
        assertThat(PrometheusExposition.sample(exposition, "drift_source_delivered_total", "source=\"" + source() + "\""))
                .isPositive();
    }

    private WebhookReceiver.Delivery awaitDelivery(String alertId) throws InterruptedException {
        long deadline = System.nanoTime() + ALERT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (WebhookReceiver.Delivery delivery : webhook.deliveries()) {
                if (delivery.text().contains(alertId)) {
                    return delivery;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the webhook got no request for alert " + alertId);
    }

    private JsonNode awaitAlert(String containerId, String path) throws Exception {
        return alerts.await(AlertLog.forPath(containerId, path), ALERT_WAIT).orElseThrow(
                () -> new AssertionError("no alert for " + path + " in container " + containerId + " in:\n" + alerts));
    }
}
