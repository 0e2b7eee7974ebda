package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * An overlay that is no container's (mounted by hand on the host), a script on it run by a host process, then the
 * overlay unmounted and its directories deleted; a container started afterwards is given the overlay's anonymous
 * device number (the kernel hands out the lowest free one). The exec reader is held through all of it, so the
 * script's event is read when its process, its overlay and its layer are gone and the device is the container's. The
 * exec must never be alerted as that container's: a host exec, or counted (unattributed, doubtful).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class FanotifyForeignOverlayEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:ff";
    private static final String SCRIPT = "handmade.sh";
    private static final int ATTEMPTS = 6;
    /** Longer than the time the capture registry allows between an exec and a container seen to appear after it. */
    private static final Duration AFTER_THE_OVERLAY = Duration.ofMillis(3500);
    private static final Duration HANDLED_WAIT = Duration.ofSeconds(30);

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private ContainerdStage stage;
    private ContainerdHost containerd;
    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startTheAgent() throws Exception {
        stage = ContainerdStage.prepare("ff-e2e");
        containerd = stage.containerd();
        work = stage.work();
        containerd.importBusybox(work, IMAGE);
        alerts = stage.alerts();
        agent = stage.startAgent("fanotify");
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void aHostExecOnAHandMountedOverlayIsNeverTheContainerThatGotItsDeviceLater() throws Exception {
        // given the exec reader held
        Thread reader = AgentThreads.named("fanotify-exec-reader").get(0);
        String before = agent.get("/metrics").body();
        String container = null;
        long device = 0;
        AgentThreads.hold(reader);
        try {
            for (int attempt = 0; attempt < ATTEMPTS && container == null; attempt++) {
                // when a host process runs a script on an overlay mounted by hand (at once: an event of the overlay's
                // own inode, once the watcher has marked it, would hold the overlay and its device until it is read),
                // which is then unmounted and deleted
                Path dir = Files.createDirectories(work.resolve("hand-" + attempt));
                Path merged = handMadeOverlayWithAScript(dir);
                device = ((Number) Files.getAttribute(merged, "unix:dev")).longValue();
                Thread.sleep(500); // the mount watcher reads its mount line
                if (!HostCommands.works("umount", merged.toString())) {
                    HostCommands.quietly("umount", "-l", merged.toString()); // held by a queued event: again
                    continue;
                }
                // (its mount id taken by a bind mount, which takes no device: else the container's rootfs, mounted
                // next on the host, could get both its id and its device, and pass the exec for the host's by luck)
                HostCommands.run("mount", "--bind", dir.resolve("lower").toString(), merged.toString());
                HostCommands.run("rm", "-rf", dir.resolve("upper").toString(), dir.resolve("work").toString());
                Thread.sleep(AFTER_THE_OVERLAY.toMillis());
                // and a container started afterwards is given the overlay's device
                String id = "ff-" + suffix + "-" + attempt;
                int pid = containerd.run(IMAGE, id);
                long rootDev = ((Number) Files.getAttribute(Path.of("/proc/" + pid + "/root"), "unix:dev")).longValue();
                if (rootDev == device) {
                    container = id;
                } else {
                    containerd.remove(id); // another mount took the device first: again
                }
            }
            assertThat(container).as("a container got the hand-made overlay's device within " + ATTEMPTS + " attempts")
                    .isNotNull();
            Thread.sleep(1000); // the watchers read the container's mount line and find its first process
        } finally {
            AgentThreads.release(reader);
        }

        // then the script's exec is handled (counted as not attributable, or doubtful) and never alerted as the
        // container's
        long deadline = System.nanoTime() + HANDLED_WAIT.toNanos();
        String metrics = agent.get("/metrics").body();
        while (!handled(before, metrics) && scriptAlerts().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
            metrics = agent.get("/metrics").body();
        }
        Thread.sleep(5000); // anything still in the pipeline
        String summary = "dev " + device + ", container " + container + "; " + counters(agent.get("/metrics").body())
                + "; alerts:\n" + alerts;
        assertThat(scriptAlerts()).as("the host's exec alerted as a container's: " + summary).isEmpty();
        assertThat(handled(before, agent.get("/metrics").body())).as("the exec counted: " + summary).isTrue();
    }

    /**
     * An overlay with a lower, an upper (holding the script) and a work directory under {@code dir}, mounted on the
     * host, and the script run from it by a host process in the same breath; returns where it is mounted.
     */
    private Path handMadeOverlayWithAScript(Path dir) throws Exception {
        Path lower = Files.createDirectories(dir.resolve("lower"));
        Files.writeString(lower.resolve("README"), "a lower layer\n");
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Path script = Files.writeString(upper.resolve(SCRIPT), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path workDir = Files.createDirectories(dir.resolve("work"));
        Path merged = Files.createDirectories(dir.resolve("merged"));
        stage.onClose(() -> HostCommands.quietly("umount", "-l", merged.toString()));
        HostCommands.run("/bin/sh", "-c", "mount -t overlay overlay -o lowerdir=" + lower + ",upperdir=" + upper
                + ",workdir=" + workDir + " " + merged + " && " + merged.resolve(SCRIPT));
        return merged;
    }

    private List<JsonNode> scriptAlerts() throws java.io.IOException {
        return alerts.alerts().stream().filter(a -> a.path("drift").path("path").asString().endsWith(SCRIPT)).toList();
    }

    /** The exec was counted: not attributable (that may be drift), doubtful, or a host exec. */
    private static boolean handled(String before, String now) {
        return value(now, "drift_pipeline_stopped_early_total", "reason", "unattributed")
                > value(before, "drift_pipeline_stopped_early_total", "reason", "unattributed")
                || value(now, "drift_pipeline_stopped_early_total", "reason", "host_process")
                > value(before, "drift_pipeline_stopped_early_total", "reason", "host_process")
                || value(now, "drift_fanotify_doubtful_total", "reason", "device_reused")
                > value(before, "drift_fanotify_doubtful_total", "reason", "device_reused");
    }

    private static double value(String exposition, String name, String label, String labelValue) {
        Matcher m = Pattern.compile("^" + name + "\\{[^}]*" + label + "=\"" + labelValue + "\"[^}]*\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static String counters(String exposition) {
        return String.join(", ", exposition.lines().filter(l -> l.startsWith("drift_fanotify_doubtful_total")
                || l.startsWith("drift_pipeline_stopped_early_total") || l.startsWith("drift_attribution_execs_total")
                || l.startsWith("drift_fanotify_reused_device_total") || l.startsWith("drift_fanotify_gone_layer_total"))
                .toList());
    }
}
