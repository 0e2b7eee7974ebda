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
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The two system call tracepoint hooks of the eBPF source turned off in the configuration (they tax every system
 * call of the node, docs/benchmarks.md "System call tax"): no write program and no library program is attached, a
 * drift is still alerted, and its unknown writer says why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class KernelHooksOffEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:hooksoff";

    private final String target = "hooks-off-" + ThreadLocalRandom.current().nextInt(1_000_000);
    private final ContainerdHost containerd = new ContainerdHost("drift-e2e-hooksoff");

    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;
    private int lastProgramBefore;

    @BeforeAll
    void startAContainerAndTheAgentWithBothHooksOff() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: the agent loads BPF; containerd");
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        work = Files.createTempDirectory("drift-e2e-hooksoff");
        containerd.importBusybox(work, IMAGE);
        containerd.run(IMAGE, target);
        alerts = new AlertLog(work.resolve("alerts.jsonl"));
        Map<Setting, String> flags = RunningAgent.alertingOnEveryDrift("ebpf", work, alerts);
        flags.put(Setting.EBPF_LIBRARY_DRIFT, "false");
        flags.put(Setting.EBPF_WRITE_TRACKING, "false");
        lastProgramBefore = programs().keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        agent = RunningAgent.startStandaloneAndAwaitReady(flags);
    }

    @AfterAll
    void stopEverything() {
        if (agent != null) {
            agent.close();
        }
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    /** The BPF programs of the host by id, from {@code bpftool prog show}. */
    private static Map<Integer, String> programs() {
        Map<Integer, String> byId = new java.util.TreeMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^(\\d+): \\S+\\s+name (\\S+)")
                .matcher(HostCommands.run("bpftool", "prog", "show"));
        while (m.find()) {
            byId.put(Integer.parseInt(m.group(1)), m.group(2));
        }
        return byId;
    }

    @Test
    void aDriftIsAlertedItsWriterIsUnknownBecauseTurnedOffAndNoHookIsAttached() throws Exception {
        // when a file is written and run in the container
        containerd.exec(target, "/bin/cp /bin/busybox /tmp/w && /tmp/w true; true");

        // then it is alerted, and the unknown writer says write tracking is turned off
        JsonNode alert = alerts.await(AlertLog.forPath(target, "/tmp/w"), Duration.ofSeconds(20)).orElseThrow(
                () -> new AssertionError("no alert for /tmp/w in:\n" + alerts));
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("drift").path("origin").path("reason").asString()).as(alert.toString())
                .isEqualTo("write tracking turned off (ebpf.writeTracking)");
        String metrics = agent.get("/metrics").body();
        assertThat(metrics).contains("drift_origin_active 0.0");
        // and the BPF programs loaded since this agent started hold its exec program but no syscall tracepoint one
        java.util.List<String> loadedSince = programs().entrySet().stream().filter(e -> e.getKey() > lastProgramBefore)
                .map(Map.Entry::getValue).toList();
        assertThat(loadedSince).contains("exec_btf").doesNotContain("origin_openat", "library_mmap");
    }
}
