package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole agent (standalone, the kernel's exec source, a real containerd container) configured as a Falco user
 * would: alert lines in Falco's format and the webhook posting Falco's payload, as falcosidekick's HTTP input reads
 * it, with a bearer token from a file.
 */
@Tag(TestTiers.E2E)
class FalcoOutputEndToEndTest {

    /** falcosidekick's input (its {@code types.FalcoPayload}), read strictly. */
    record FalcoPayload(String uuid, String output, String priority, String rule, Instant time,
                        Map<String, Object> output_fields, String source, List<String> tags, String hostname) {
    }

    private static final String IMAGE = "docker.io/drift-e2e/busybox:falco";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);
    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    @TempDir
    Path work;

    private final ContainerdHost containerd = new ContainerdHost("drift-e2e-falco");
    private final String name = "drift-e2e-falco-" + ThreadLocalRandom.current().nextInt(1_000_000);
    private RunningAgent agent;
    private WebhookReceiver falcosidekick;

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (falcosidekick != null) {
            falcosidekick.close();
        }
        containerd.removeAll();
    }

    @Test
    void aDroppedBinaryIsOneFalcoLineAndOneFalcoPayloadPostToFalcosidekickWithItsToken() throws Exception {
        // given a container, and the agent writing Falco's format to its log and to a falcosidekick stand-in
        assumeTrue(HostCommands.isRoot(), "needs root: the agent loads BPF or marks filesystems; containerd");
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        containerd.importBusybox(work, IMAGE);
        containerd.run(IMAGE, name);
        Path policy = Files.writeString(work.resolve("policy.yaml"),
                "apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules: []\ndefaultRule: {action: alert}\n");
        Path token = Files.writeString(work.resolve("token"), "e2e-falcosidekick-token\n");
        Path alerts = work.resolve("alerts.jsonl");
        falcosidekick = new WebhookReceiver();
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.STANDALONE, "true");
        flags.put(Setting.SOURCE, "auto");
        flags.put(Setting.POLICY_FILE, policy.toString());
        flags.put(Setting.ALERTS_TARGET, alerts.toString());
        flags.put(Setting.ALERTS_FORMAT, "falco");
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        flags.put(Setting.DEDUP_WINDOW, "0s");
        flags.put(Setting.KUBERNETES_EVENTS, "false");
        flags.put(Setting.WEBHOOK_URL, falcosidekick.url().toString());
        flags.put(Setting.WEBHOOK_FORMAT, "falco");
        flags.put(Setting.WEBHOOK_HEADERS, "Authorization: Bearer {{file:" + token + "}}");
        agent = RunningAgent.start(flags, config -> {
            throw new AssertionError("standalone mode must not build a Kubernetes client");
        });
        RunningAgent.Response ready = agent.awaitReady(Duration.ofSeconds(30));
        assertThat(ready.status()).as(ready.body()).isEqualTo(200);

        // when a binary dropped into the container runs
        containerd.exec(name, "cp /bin/busybox /tmp/falco-drop && /tmp/falco-drop --help > /dev/null 2>&1; true");

        // then the alert log has it as one Falco line
        JsonNode line = awaitLine(alerts, "/tmp/falco-drop");
        FalcoPayload payload = STRICT.treeToValue(line, FalcoPayload.class);
        assertThat(payload.rule()).isEqualTo("Drifted binary executed in container");
        assertThat(payload.priority()).isIn("Critical", "Warning", "Notice");
        assertThat(payload.source()).isEqualTo("syscall");
        assertThat(payload.hostname()).isNotBlank();
        assertThat(line.path("time").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");
        assertThat(payload.tags()).contains("drift_added", "mitre_command_and_control", "T1105");
        assertThat(payload.output_fields()).containsEntry("drift.kind", "ADDED")
                .containsEntry("container.name", name).containsEntry("proc.name", "falco-drop");
        assertThat(payload.output()).contains("Drifted binary executed in container (kind=ADDED path=/tmp/falco-drop");

        // and falcosidekick got the same payload with the token from the file
        WebhookReceiver.Delivery delivery = awaitDelivery(payload.uuid());
        assertThat(STRICT.readTree(delivery.body())).isEqualTo(line);
        assertThat(delivery.authorization()).isEqualTo("Bearer e2e-falcosidekick-token");
    }

    private static JsonNode awaitLine(Path alerts, String path) throws Exception {
        long deadline = System.nanoTime() + ALERT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(alerts)) {
                Optional<JsonNode> found = Files.readAllLines(alerts, StandardCharsets.UTF_8).stream()
                        .filter(l -> !l.isBlank()).map(l -> STRICT.readTree(l))
                        .filter(n -> path.equals(n.path("output_fields").path("drift.path").asString()))
                        .findFirst();
                if (found.isPresent()) {
                    return found.get();
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no Falco line for " + path + " in " + (Files.exists(alerts)
                ? Files.readString(alerts) : "(no alerts file)"));
    }

    private WebhookReceiver.Delivery awaitDelivery(String uuid) throws InterruptedException {
        long deadline = System.nanoTime() + ALERT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (WebhookReceiver.Delivery delivery : falcosidekick.deliveries()) {
                if (delivery.text().contains(uuid)) {
                    return delivery;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("falcosidekick got no request for alert " + uuid);
    }
}
