package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.sandbox.OverlaySandbox;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.driftagent.policy.model.DriftKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real kernel events through the whole agent (source, attribution, image index, classifier) for the drift scenarios
 * of a container's root overlay, with each exec source.
 */
@Tag(TestTiers.E2E)
class SandboxDriftKindsEndToEndTest {

    /** Each step execs one file whose classification the test knows. */
    private static final String SCENARIOS = String.join(" && ",
            "/bin/true",                                                       // image binary
            "chmod 0755 /bin/busybox && /bin/busybox true",                    // copy-up, same bytes
            "cp /bin/busybox /tmp/cat && /tmp/cat /dev/null",                  // dropped binary
            "echo '#!/bin/sh' > /tmp/run.sh && chmod +x /tmp/run.sh && /tmp/run.sh", // dropped script
            "cat /bin/busybox > /tmp/b && echo tampered >> /tmp/b && chmod +x /tmp/b"
                    + " && mkdir -p /usr/bin && cp /tmp/b /usr/bin/env.new && cp /bin/busybox /usr/bin/keep"
                    + " && true",
            "sleep 0.5");

    @TempDir
    Path work;

    @ParameterizedTest(name = "source {0}")
    @ValueSource(strings = {"ebpf", "fanotify"})
    void eachExecIsClassifiedAgainstTheImage(String source) throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "exec sources need root");
        assumeTrue(Files.isRegularFile(OverlaySandbox.DEFAULT_BUSYBOX), "busybox-static is not installed");
        AgentConfig config = new ConfigLoader(() -> "test-node").load(Optional.empty(), Map.of(), Map.of(
                Setting.STANDALONE, "true", Setting.SOURCE, source, Setting.ALERTS_TARGET,
                work.resolve("alerts.jsonl").toString(), Setting.HTTP_BIND, "127.0.0.1", Setting.HTTP_PORT, "0"));
        SandboxContainers sandboxes = new SandboxContainers();
        AgentRuntime runtime = new AgentRuntime(new AgentAssembly(Clock.systemUTC(), sandboxes).assemble(config),
                Duration.ofSeconds(5));
        List<Classification> seen = new CopyOnWriteArrayList<>();
        runtime.start();
        try (OverlaySandbox sandbox = OverlaySandbox.create("kinds-" + source, OverlaySandbox.DEFAULT_BUSYBOX)) {
            sandboxes.register(sandbox, new WorkloadMetadata(null, null, null, Map.of(), "kinds", "kinds:1", null),
                    false, (event, classification) -> seen.add(classification));

            OverlaySandbox.ProcessResult ran = sandbox.run(SCENARIOS, Duration.ofSeconds(20));
            assertThat(ran.exitCode()).as(ran.output()).isZero();
            // a replaced image binary, exec'd last: same path as in the image, other bytes
            OverlaySandbox.ProcessResult replaced = sandbox.run(
                    "cp /tmp/b /bin/busybox.new && mv /bin/busybox.new /bin/busybox && /bin/busybox true; sleep 0.5",
                    Duration.ofSeconds(20));
            assertThat(replaced.exitCode()).as(replaced.output()).isZero();
            awaitKind(seen, "/bin/busybox", DriftKind.MODIFIED);
        } finally {
            runtime.stop();
        }

        assertThat(kindsOf(seen, "/tmp/cat")).containsOnly(DriftKind.ADDED);
        assertThat(kindsOf(seen, "/tmp/run.sh")).as("the script itself is classified").containsOnly(DriftKind.ADDED);
        assertThat(kindsOf(seen, "/bin/busybox"))
                .as("image binary and its chmod copy-up are IMAGE; the replaced binary is MODIFIED: " + seen)
                .contains(DriftKind.IMAGE, DriftKind.MODIFIED)
                .doesNotContain(DriftKind.ADDED, DriftKind.UNRESOLVED);
        // busybox re-execs itself through /proc/self/exe: resolved through the process's exe link while it lives;
        // a copied-up binary re-exec'd by a process that is already gone stays UNRESOLVED (a known gap)
        assertThat(seen).noneMatch(c -> c.kind() == DriftKind.UNRESOLVED && !c.path().startsWith("/proc/"));
        Classification modified = seen.stream().filter(c -> c.kind() == DriftKind.MODIFIED).findFirst().orElseThrow();
        assertThat(modified.imagePath()).isEqualTo("/bin/busybox");
        assertThat(modified.sha256()).matches("[0-9a-f]{64}");
    }

    private static List<DriftKind> kindsOf(List<Classification> seen, String path) {
        return seen.stream().filter(c -> c.path().equals(path)).map(Classification::kind).toList();
    }

    private static void awaitKind(List<Classification> seen, String path, DriftKind kind) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline && !kindsOf(seen, path).contains(kind)) {
            Thread.sleep(20);
        }
    }
}
