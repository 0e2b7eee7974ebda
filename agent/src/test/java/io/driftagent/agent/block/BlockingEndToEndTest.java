package io.driftagent.agent.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.proc.ContainerId;
import io.driftagent.agent.runtime.AgentAssembly;
import io.driftagent.agent.runtime.AgentRuntime;
import io.driftagent.agent.sandbox.OverlaySandbox;
import io.driftagent.agent.sandbox.SandboxContainers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole agent blocking for real: a block rule, a sandbox container, a dropped binary denied with EPERM. */
class BlockingEndToEndTest {

    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: block-drift-in-payments
                priority: 1
                action: block
                resourceScope:
                  - field: containerName
                    operator: equals
                    values: ["payments"]
                allowList: ["/tmp/tools/true"]
            defaultRule:
              action: ignore
            """;

    @TempDir
    Path work;

    @Test
    void aDroppedBinaryIsDeniedInsideTheContainerAndReportedAsBlockedWhileImageAndAllowedBinariesRun() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "fanotify permission events need root");
        assumeTrue(Files.isRegularFile(OverlaySandbox.DEFAULT_BUSYBOX), "busybox-static is not installed");
        Path policy = Files.writeString(work.resolve("policy.yaml"), POLICY);
        Path alerts = work.resolve("alerts.jsonl");
        AgentConfig config = new ConfigLoader(() -> "test-node").load(Optional.empty(), Map.of(), Map.of(
                Setting.STANDALONE, "true", Setting.POLICY_FILE, policy.toString(),
                Setting.ALERTS_TARGET, alerts.toString(), Setting.HTTP_BIND, "127.0.0.1", Setting.HTTP_PORT, "0",
                Setting.DEDUP_WINDOW, "0s"));
        SandboxContainers sandboxes = new SandboxContainers();
        AgentRuntime runtime = new AgentRuntime(new AgentAssembly(Clock.systemUTC(), sandboxes).assemble(config),
                Duration.ofSeconds(5));
        runtime.start();
        try (OverlaySandbox sandbox = OverlaySandbox.create("block-" + ProcessHandle.current().pid(),
                OverlaySandbox.DEFAULT_BUSYBOX)) {
            ContainerId id = sandboxes.register(sandbox,
                    new WorkloadMetadata(null, null, null, Map.of(), "payments", "shop/payments:1", null),
                    true, (event, classification) -> { });

            // the first exec puts the container under the guard; the sleep gives the pipeline time to do so
            OverlaySandbox.ProcessResult result = sandbox.run("/bin/true && sleep 1"
                    + " && cp /bin/busybox /tmp/wget && mkdir /tmp/tools && cp /bin/busybox /tmp/tools/true"
                    + " && /bin/ls / > /dev/null && echo image-ran"
                    + "; /tmp/tools/true && echo allowed-ran"
                    + "; /tmp/wget --help > /dev/null 2>&1; echo wget-exit=$?", Duration.ofSeconds(20));

            assertThat(result.output()).as(result.output())
                    .contains("image-ran").contains("allowed-ran").contains("wget-exit=126");
            assertThat(awaitLine(alerts, "/tmp/wget")).as("the denial is reported")
                    .contains("\"alertType\":\"BinaryDriftBlocked\"").contains("\"action\":\"block\"")
                    .contains("\"kind\":\"ADDED\"").contains("\"rule\":{\"name\":\"block-drift-in-payments\"");
            sandboxes.unregister(id);
        } finally {
            runtime.stop();
        }
        List<String> lines = Files.readAllLines(alerts, StandardCharsets.UTF_8);
        assertThat(lines).noneMatch(l -> l.contains("\"path\":\"/bin/ls\"") || l.contains("\"path\":\"/tmp/tools/true\""));
    }

    private static String awaitLine(Path alerts, String path) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(alerts)) {
                for (String line : Files.readAllLines(alerts, StandardCharsets.UTF_8)) {
                    if (line.contains("\"path\":\"" + path + "\"")) {
                        return line;
                    }
                }
            }
            Thread.sleep(50);
        }
        return "";
    }
}
