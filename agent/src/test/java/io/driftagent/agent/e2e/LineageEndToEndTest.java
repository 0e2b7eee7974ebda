package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * Where a drifted process came from, in the whole agent's alerts (eBPF source, standalone, a real containerd
 * container started after the agent): its ancestors in the container, nearest first, named even when they exited
 * before the alert was assembled; its session (the container's init tree, or one exec session with one id for all its
 * processes); its working directory and effective uid.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class LineageEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:anc";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);
    /** The container's entrypoint: its init runs a drop, then stays. */
    private static final String INIT_SCRIPT = "cp /bin/busybox /tmp/dropa && /tmp/dropa init-tree; sleep 600";

    private final String target = "anc-" + ThreadLocalRandom.current().nextInt(1_000_000);

    private ContainerdStage stage;
    private ContainerdHost containerd;

    @BeforeAll
    void startTheAgentThenAContainerWhoseInitRunsADrop() throws Exception {
        stage = ContainerdStage.prepare("anc-e2e");
        containerd = stage.containerd();
        containerd.importBusybox(stage.work(), IMAGE);
        // the agent first: the process tree learns every image from the container's first exec on
        stage.startAgent("ebpf");
        HostCommands.run("ctr", "-n", containerd.namespace(), "run", "-d", IMAGE, target, "/bin/sh", "-c",
                INIT_SCRIPT);
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            containerd.remove(target); // started by ctr itself (its own entrypoint): not one the stage's host removes
            stage.close();
        }
    }

    @Test
    void aDropRunByTheContainersInitIsInTheInitSessionWithTheInitShellAsItsOnlyAncestor() throws Exception {
        // given the entrypoint (pid 1 in the container: /bin/sh -c INIT_SCRIPT) ran /tmp/dropa
        // then
        JsonNode process = awaitAlert("/tmp/dropa").path("process");
        assertThat(process.path("session").path("kind").asString()).as(process.toString()).isEqualTo("init");
        assertThat(process.path("session").path("id").asString()).as(process.toString()).isNotEmpty();
        assertThat(process.path("ancestors")).as(process.toString()).hasSize(1);
        JsonNode init = process.path("ancestors").get(0);
        assertThat(AlertLog.strings(init.path("cmdline"))).as(process.toString()).containsExactly("/bin/sh", "-c", INIT_SCRIPT);
        assertThat(init.path("exe").asString()).as(process.toString()).isEqualTo("/bin/busybox");
        assertThat(init.path("pid").asInt()).as(process.toString()).isEqualTo(process.path("ppid").asInt());
        assertThat(process.path("parent").path("exe").asString()).as(process.toString()).isEqualTo("/bin/busybox");
        assertThat(process.path("cwd").asString()).as(process.toString()).isEqualTo("/");
        assertThat(process.path("euid").isInt()).as(process.toString()).isTrue();
        assertThat(process.path("euid").asInt()).as(process.toString()).isZero();
    }

    @Test
    void twoDropsOfOneExecSessionShareOneExecSessionIdThatNoOtherSessionHas() throws Exception {
        // given one exec session that runs two drops, then a second session that runs a third
        String first = "cp /bin/busybox /tmp/dropb1 && cp /bin/busybox /tmp/dropb2 && /tmp/dropb1 one; /tmp/dropb2 two; true";
        containerd.exec(target, first);
        containerd.exec(target, "cp /bin/busybox /tmp/dropb3 && /tmp/dropb3 three; true");

        // then
        JsonNode one = awaitAlert("/tmp/dropb1").path("process");
        JsonNode two = awaitAlert("/tmp/dropb2").path("process");
        JsonNode three = awaitAlert("/tmp/dropb3").path("process");
        JsonNode init = awaitAlert("/tmp/dropa").path("process");
        for (JsonNode p : List.of(one, two, three)) {
            assertThat(p.path("session").path("kind").asString()).as(p.toString()).isEqualTo("exec");
        }
        String session = one.path("session").path("id").asString();
        assertThat(session).as(one.toString()).isNotEmpty();
        assertThat(two.path("session").path("id").asString()).as(two.toString()).isEqualTo(session);
        assertThat(three.path("session").path("id").asString()).as(three.toString())
                .isNotEmpty().isNotEqualTo(session);
        assertThat(init.path("session").path("id").asString()).as(init.toString())
                .isNotEqualTo(session).isNotEqualTo(three.path("session").path("id").asString());
        // the session's shell (its leader) is the drops' one ancestor
        assertThat(one.path("ancestors")).as(one.toString()).hasSize(1);
        assertThat(AlertLog.strings(one.path("ancestors").get(0).path("cmdline"))).as(one.toString())
                .containsExactly("/bin/sh", "-c", first);
    }

    @Test
    void ancestorsThatExitedBeforeTheAlertWasAssembledAreStillNamedByTheirExeAndCommandLine() throws Exception {
        // given a drop run by a shell run by the session's shell; the agent's ring reader is held while all three
        // run and exit, so every ancestor is gone when the alert is assembled
        containerd.exec(target, "cp /bin/busybox /tmp/dropc");
        String outer = "sh -c '/tmp/dropc arg; true'; true";
        Thread reader = AgentThreads.named("ebpf-exec-reader").get(0);
        AgentThreads.hold(reader);
        try {
            containerd.exec(target, outer);
            Thread.sleep(200);
        } finally {
            AgentThreads.release(reader);
        }

        // then
        JsonNode process = awaitAlert("/tmp/dropc").path("process");
        assertThat(process.path("ancestors")).as(process.toString()).hasSize(2);
        JsonNode inner = process.path("ancestors").get(0);
        JsonNode session = process.path("ancestors").get(1);
        assertThat(AlertLog.strings(inner.path("cmdline"))).as(process.toString())
                .containsExactly("sh", "-c", "/tmp/dropc arg; true");
        assertThat(inner.path("exe").asString()).as(process.toString()).isEqualTo("/bin/busybox");
        assertThat(AlertLog.strings(session.path("cmdline"))).as(process.toString()).containsExactly("/bin/sh", "-c", outer);
        assertThat(session.path("exe").asString()).as(process.toString()).isEqualTo("/bin/busybox");
        assertThat(process.path("parent").path("exe").asString()).as(process.toString()).isEqualTo("/bin/busybox");
        assertThat(process.path("session").path("kind").asString()).as(process.toString()).isEqualTo("exec");
        for (JsonNode ancestor : process.path("ancestors")) {
            assertThat(Path.of("/proc", Integer.toString(ancestor.path("pid").asInt())).resolve("cmdline"))
                    .as("ancestor %s is gone", ancestor).satisfiesAnyOf(
                            p -> assertThat(p).doesNotExist(),
                            p -> assertThat(Files.readString(p)).doesNotContain("dropc"));
        }
    }

    @Test
    void aDropRunFromAWorkingDirectoryHasThatDirectoryAsItsCwd() throws Exception {
        // given
        containerd.exec(target, "mkdir -p /tmp/work && cp /bin/busybox /tmp/work/dropd && cd /tmp/work && ./dropd x; true");

        // then
        JsonNode process = awaitAlert("/tmp/work/dropd").path("process");
        assertThat(process.path("cwd").asString()).as(process.toString()).isEqualTo("/tmp/work");
    }

    @Test
    void imageExecsKeptInTheKernelNeverReachTheAgentAndAKeptShellStillNamesItsDrop() throws Exception {
        // given a session shell (kept in the kernel: an image file of the container's known root) that runs 30 leaf
        // image execs (busybox by its own name: the shell must exec it), then a shell that runs a drop
        String before = stage.agent().get("/metrics").body();
        containerd.exec(target, "cp /bin/busybox /tmp/drope");
        String loop = "for i in $(seq 30); do /bin/busybox true; done; /bin/busybox sh -c '/tmp/drope e; true'; true";
        containerd.exec(target, loop);

        // then the drop's alert names both shells, sent when each forked
        JsonNode process = awaitAlert("/tmp/drope").path("process");
        assertThat(process.path("ancestors")).as(process.toString()).hasSize(2);
        assertThat(AlertLog.strings(process.path("ancestors").get(0).path("cmdline"))).as(process.toString())
                .containsExactly("/bin/busybox", "sh", "-c", "/tmp/drope e; true");
        assertThat(AlertLog.strings(process.path("ancestors").get(1).path("cmdline"))).as(process.toString())
                .containsExactly("/bin/sh", "-c", loop);
        assertThat(process.path("session").path("kind").asString()).as(process.toString()).isEqualTo("exec");
        // and the 30 leaves stayed in the kernel, counted
        String after = stage.agent().get("/metrics").body();
        long kept = PrometheusExposition.sample(after, METRIC, KEPT) - PrometheusExposition.sample(before, METRIC, KEPT);
        assertThat(kept).as("image execs kept in the kernel").isGreaterThanOrEqualTo(30);
    }

    private static final String METRIC = "drift_pipeline_stopped_early_total";
    private static final String KEPT = "reason=\"image_file_kept_in_kernel\"";

    private JsonNode awaitAlert(String path) throws Exception {
        return stage.awaitAlert(target, path, ALERT_WAIT);
    }
}
