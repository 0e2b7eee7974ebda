package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.WorkloadMetadata;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole agent blocking for real: a block rule, a sandbox container, a dropped binary denied with EPERM. */
@Tag(TestTiers.E2E)
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

    private Path alerts;
    private final SandboxContainers sandboxes = new SandboxContainers();

    private AgentRuntime startAgent() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "fanotify permission events need root");
        assumeTrue(Files.isRegularFile(OverlaySandbox.DEFAULT_BUSYBOX), "busybox-static is not installed");
        Path policy = Files.writeString(work.resolve("policy.yaml"), POLICY);
        alerts = work.resolve("alerts.jsonl");
        AgentConfig config = new ConfigLoader(() -> "test-node").load(Optional.empty(), Map.of(), Map.of(
                Setting.STANDALONE, "true", Setting.POLICY_FILE, policy.toString(),
                Setting.ALERTS_TARGET, alerts.toString(), Setting.HTTP_BIND, "127.0.0.1", Setting.HTTP_PORT, "0",
                Setting.DEDUP_WINDOW, "0s"));
        AgentRuntime runtime = new AgentRuntime(new AgentAssembly(Clock.systemUTC(), sandboxes).assemble(config),
                Duration.ofSeconds(5));
        runtime.start();
        return runtime;
    }

    @Test
    void aDroppedBinaryIsDeniedInsideTheContainerAndReportedAsBlockedWhileImageAndAllowedBinariesRun() throws Exception {
        AgentRuntime runtime = startAgent();
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

    /** Flips the file's last byte through a shared writable mapping: new content, and no modify event. */
    private static final String MMAP_FLIP_C = """
            #include <fcntl.h>
            #include <sys/mman.h>
            #include <sys/stat.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                int fd = open(argv[1], O_RDWR);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) != 0) return 1;
                char *p = mmap(0, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (p == MAP_FAILED) return 2;
                p[st.st_size - 1] ^= 1;
                munmap(p, st.st_size);
                close(fd);
                return 0;
            }
            """;
    private static final String EXIT_0_C = "int main(void) { return 0; }\n";

    private Path compileStatic(String name, String source) throws Exception {
        Path c = Files.writeString(work.resolve(name + ".c"), source);
        Path out = work.resolve(name);
        Process gcc = new ProcessBuilder("gcc", "-O2", "-static", "-o", out.toString(), c.toString())
                .redirectErrorStream(true).start();
        String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor()).as(log).isZero();
        return out;
    }

    @Test
    void anImageBinaryChangedThroughAMappingRunsOnceUnblockedIsAlertedAndIsDeniedFromThenOn() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc is not installed");
        Path flip = compileStatic("mmap-flip", MMAP_FLIP_C);
        Path victim = compileStatic("victim", EXIT_0_C);
        AgentRuntime runtime = startAgent();
        try (OverlaySandbox sandbox = OverlaySandbox.create("mmap-" + ProcessHandle.current().pid(),
                OverlaySandbox.DEFAULT_BUSYBOX)) {
            Files.copy(flip, sandbox.lowerDir().resolve("bin/mmap-flip"));
            Files.copy(victim, sandbox.lowerDir().resolve("bin/victim"));
            ContainerId id = sandboxes.register(sandbox,
                    new WorkloadMetadata(null, null, null, Map.of(), "payments", "shop/payments:1", null),
                    true, (event, classification) -> { });

            // remembered as an image binary, then changed without a modify event: that one run escapes the guard
            OverlaySandbox.ProcessResult result = sandbox.run("/bin/true && sleep 1"
                    + " && /bin/victim && echo image-rc=$? && /bin/mmap-flip /bin/victim && echo flipped"
                    + " && /bin/victim; echo escaped-rc=$?; sleep 1; /bin/victim; echo after-rc=$?", Duration.ofSeconds(20));

            assertThat(result.output()).as(result.output()).contains("image-rc=0").contains("flipped")
                    .contains("escaped-rc=0").contains("after-rc=126");
            List<String> victimLines = awaitLines(alerts, "/bin/victim", 2);
            assertThat(victimLines.get(0)).as("the escaped run").contains("\"alertType\":\"BinaryDrift\"")
                    .contains("\"kind\":\"MODIFIED\"").contains("\"action\":\"block\"");
            assertThat(victimLines.get(1)).as("the next run").contains("\"alertType\":\"BinaryDriftBlocked\"");
            sandboxes.unregister(id);
        } finally {
            runtime.stop();
        }
    }

    private static List<String> awaitLines(Path alerts, String path, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<String> found = List.of();
        while (System.nanoTime() < deadline && found.size() < count) {
            if (Files.exists(alerts)) {
                found = Files.readAllLines(alerts, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.contains("\"path\":\"" + path + "\"")).toList();
            }
            Thread.sleep(50);
        }
        assertThat(found).as("alert lines for %s", path).hasSizeGreaterThanOrEqualTo(count);
        return found;
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
