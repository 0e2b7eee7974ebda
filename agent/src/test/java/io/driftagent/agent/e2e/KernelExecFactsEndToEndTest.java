package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The facts the eBPF program takes from the kernel at exec time, seen in the whole agent's alerts (standalone, real
 * containerd containers): a process that is gone, or has exec'd something else, before /proc is read still has its
 * command line and executable as exec'd; an
 * exec through a descriptor (fexecve) is classified at the file's own path in the container; a path longer than the
 * exec's filename buffer is classified and reported exactly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class KernelExecFactsEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:kfacts";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);
    /** fexecve(open(argv[1])) with argv {"sleep", "0"}: glibc makes it execveat(fd, "", AT_EMPTY_PATH). */
    private static final String FEXECVE_SOURCE = """
            #define _GNU_SOURCE
            #include <fcntl.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                int fd = open(argv[1], O_RDONLY);
                if (fd < 0) return 2;
                char *args[] = {"sleep", "0", 0};
                char *env[] = {0};
                fexecve(fd, args, env);
                return 1;
            }
            """;

    private final String target = "drift-e2e-kfacts-" + ThreadLocalRandom.current().nextInt(1_000_000);

    private ContainerdStage stage;
    private ContainerdHost containerd;
    private AlertLog alerts;

    /** The exec source under test. */
    String source() {
        return "ebpf";
    }

    /**
     * Whether the source takes argv and the exe from the kernel at exec time. fanotify cannot: it reads /proc while
     * the process lives, so a process that exits or replaces itself at once has no command line or the later one.
     */
    boolean argvFromTheKernel() {
        return true;
    }

    @BeforeAll
    void startATargetContainerWithAHelperVolumeAndTheAgent() throws Exception {
        stage = ContainerdStage.prepare("drift-e2e-kfacts");
        containerd = stage.containerd();
        alerts = stage.alerts();
        Path work = stage.work();
        Path helpers = Files.createDirectories(work.resolve("helpers"));
        Path source = Files.writeString(helpers.resolve("fexec.c"), FEXECVE_SOURCE);
        assertThat(HostCommands.works("cc", "-static", "-O2", "-o", helpers.resolve("fexec").toString(),
                source.toString())).as("cc -static builds the fexecve helper (gcc, libc6-dev)").isTrue();
        containerd.importBusybox(work, IMAGE);
        containerd.run(IMAGE, target, "--mount",
                "type=bind,src=" + helpers + ",dst=/helpers,options=rbind:ro");

        stage.startAgent(source());
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void aDroppedToolThatExitsAtOnceIsAlertedWithItsCommandLineAsExecutedAndItsExe() throws Exception {
        // given a binary dropped in the container, run with arguments; it is an unknown busybox applet: it exits at once
        containerd.exec(target, "cp /bin/busybox /tmp/pay && /tmp/pay --payload 'a b' x; true");

        // then
        JsonNode alert = awaitAlert("/tmp/pay");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        if (argvFromTheKernel()) {
            assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo("/tmp/pay");
            assertThat(AlertLog.strings(alert.path("process").path("cmdline"))).as(alert.toString())
                    .containsExactly("/tmp/pay", "--payload", "a b", "x");
            assertThat(alert.path("process").path("parent").path("pid").asInt()).as(alert.toString()).isPositive();
        }
    }

    @Test
    void aDropThatExecsAnotherProgramAtOnceIsAlertedWithItsOwnCommandLineNotWhatProcShowsLater() throws Exception {
        // given a dropped shell (busybox named sh) that replaces itself with the image's sleep at once: by the time
        // /proc is read it shows /bin/sleep's exe and command line
        containerd.exec(target, "cp /bin/busybox /tmp/sh && /tmp/sh -c 'exec /bin/sleep 2'; true");

        // then the alert says what the drop was run as
        JsonNode alert = awaitAlert("/tmp/sh");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        if (argvFromTheKernel()) {
            assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo("/tmp/sh");
            assertThat(AlertLog.strings(alert.path("process").path("cmdline"))).as(alert.toString())
                    .containsExactly("/tmp/sh", "-c", "exec /bin/sleep 2");
        }
    }

    @Test
    void anExecThroughADescriptorIsAddedAtTheFilesOwnPathInTheContainer() throws Exception {
        // given /tmp/fx dropped, then run by fexecve(open("/tmp/fx")): the exec's filename is /dev/fd/3
        containerd.exec(target, "cp /bin/busybox /tmp/fx && /helpers/fexec /tmp/fx; true");

        // then the alert names the file, not the descriptor
        JsonNode alert = awaitAlert("/tmp/fx");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("drift").path("sha256").isString()).as(alert.toString()).isTrue();
        if (argvFromTheKernel()) {
            assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo("/tmp/fx");
            assertThat(AlertLog.strings(alert.path("process").path("cmdline"))).as(alert.toString())
                    .containsExactly("sleep", "0");
        }
        assertThat(alerts.alerts()).as("no alert names the descriptor: %s", alerts)
                .noneMatch(a -> a.path("drift").path("path").asString("").startsWith("/dev/fd/"));
    }

    @Test
    void aDropAtAPathOf320CharactersIsAddedWithTheExactPath() throws Exception {
        // given a path longer than the exec filename's 255 bytes
        StringBuilder dir = new StringBuilder("/tmp");
        while (dir.length() < 300) {
            dir.append('/').append("d".repeat(49));
        }
        String path = dir.substring(0, 300) + "/long-dropped-tool";
        path = path + "x".repeat(320 - path.length());
        assertThat(path).hasSize(320);
        String parent = path.substring(0, path.lastIndexOf('/'));

        containerd.exec(target, "mkdir -p " + parent + " && cp /bin/busybox " + path + " && " + path + " x; true");

        // then
        JsonNode alert = awaitAlert(path);
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("drift").path("path").asString()).isEqualTo(path);
        if (argvFromTheKernel()) {
            assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo(path);
            assertThat(AlertLog.strings(alert.path("process").path("cmdline"))).as(alert.toString())
                    .containsExactly(path, "x");
        }
    }

    private JsonNode awaitAlert(String path) throws Exception {
        return stage.awaitAlert(target, path, ALERT_WAIT);
    }

}
