package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * A fanotify event carries a pid only, and pids are reused once freed: on a node that execs thousands of processes a
 * second they wrap within a minute, while the exec reader may lag seconds behind. Made to happen every time here: the
 * exec reader is held while a container's drop runs and exits, its pid is given to a host process (through
 * {@code /proc/sys/kernel/ns_last_pid}), then the reader is released. /proc at that pid now describes a host process;
 * the drop must still be alerted ADDED in its container, the contradiction counted, never taken for a host exec. The
 * same with the pid given to a process of another container: the drop is never alerted as that container's; and with a
 * drop on the container's own tmpfs, on no overlay, known as the container's by the mount it was opened through.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class FanotifyPidReuseEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:f2-reuse";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(30);
    private static final String DROP = "/tmp/sleep";
    private static final String DROP_ARGUMENT = "2.371";
    private static final Path NS_LAST_PID = Path.of("/proc/sys/kernel/ns_last_pid");
    private static final String OTHER_DROP = "/sleep";
    private static final String OTHER_DROP_ARGUMENT = "2.373";
    /** On the container's /dev, a tmpfs the runtime mounts in its namespace (its /dev/shm is noexec). */
    private static final String TMPFS_DROP = "/dev/sleep";
    private static final String TMPFS_DROP_ARGUMENT = "2.377";

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private final String target = "f2-reuse-" + suffix;
    private ContainerdStage stage;
    private ContainerdHost containerd;
    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startATargetContainerAndTheAgent() throws Exception {
        stage = ContainerdStage.prepare("f2-e2e");
        containerd = stage.containerd();
        work = stage.work();
        containerd.importBusybox(work, IMAGE);
        alerts = stage.alerts();
        agent = stage.startAgent("fanotify");
        containerd.run(IMAGE, target);
        Thread.sleep(1000); // the mount watcher marks the container's filesystems and learns its mounts
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void aDropWhosePidWentToAHostProcessBeforeItsEventWasReadIsAlertedAddedInItsContainer() throws Exception {
        // given the counts before
        String before = agent.get("/metrics").body();
        // when, with the exec reader held, a process of the container runs a drop that exits, and its pid is given
        // to a host process before its event is read
        DropAndHost handedOver = dropWhosePidAHostProcessTakes("f2-", DROP, DROP_ARGUMENT);
        int dropPid = handedOver.dropPid();
        try {
            // then the drop is alerted ADDED in its container, with the path the process used
            JsonNode alert = alerts.await(AlertLog.forPath(target, DROP), ALERT_WAIT).orElseThrow(() -> new AssertionError(
                    "no alert for " + DROP + " (pid " + dropPid + ", then a host process's) in " + target + "; "
                            + doubtful(safeMetrics()) + "; alerts:\n" + alerts));
            assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
            assertThat(alert.path("process").path("pid").asInt()).as(alert.toString()).isEqualTo(dropPid);
            // and the contradiction /proc showed is counted
            assertThat(count(agent.get("/metrics").body(), "pid_reused")).as(doubtful(agent.get("/metrics").body()))
                    .isGreaterThan(count(before, "pid_reused"));
        } finally {
            handedOver.host().destroyForcibly();
        }
    }

    @Test
    void aDropOnTheContainersTmpfsWhosePidWentToAHostProcessBeforeItsEventWasReadIsAlertedInItsContainer()
            throws Exception {
        // given the counts before
        String before = agent.get("/metrics").body();
        // when, with the exec reader held, a process of the container runs a drop from the container's own /dev (a
        // tmpfs, on no overlay) that exits, and its pid is given to a host process before its event is read
        DropAndHost handedOver = dropWhosePidAHostProcessTakes("f2t-", TMPFS_DROP, TMPFS_DROP_ARGUMENT);
        int dropPid = handedOver.dropPid();
        try {
            // then the drop is alerted in its container, not taken for the host process's exec
            JsonNode alert = alerts.await(AlertLog.forPath(target, TMPFS_DROP), ALERT_WAIT).orElseThrow(() ->
                    new AssertionError("no alert for " + TMPFS_DROP + " (pid " + dropPid + ", then a host process's) in "
                            + target + "; " + doubtful(safeMetrics()) + "; alerts:\n" + alerts));
            assertThat(alert.path("process").path("pid").asInt()).as(alert.toString()).isEqualTo(dropPid);
            // and the contradiction /proc showed is counted
            assertThat(count(agent.get("/metrics").body(), "pid_reused")).as(doubtful(agent.get("/metrics").body()))
                    .isGreaterThan(count(before, "pid_reused"));
        } finally {
            handedOver.host().destroyForcibly();
        }
    }

    @Test
    void aDropWhosePidWentToAnotherContainersProcessBeforeItsEventWasReadIsAlertedInItsOwnContainer() throws Exception {
        // given another container whose shell keeps starting short sleeps, and the exec reader held
        String other = "f2-other-" + suffix;
        long otherCgroup = cgroupInode(containerd.run(IMAGE, other));
        Process forks = new ProcessBuilder("ctr", "-n", containerd.namespace(), "task", "exec", "--exec-id",
                "f2f-" + suffix, other, "/bin/sh", "-c", "while :; do sleep 8 & sleep 0.05; done").start();
        Thread reader = AgentThreads.named("fanotify-exec-reader").get(0);
        String before = agent.get("/metrics").body();
        int dropPid;
        AgentThreads.hold(reader);
        try {
            // when a process of the target container runs a drop that exits
            dropPid = runDropThatExits("f2o-", OTHER_DROP, OTHER_DROP_ARGUMENT);
            // and its pid is given to a process of the other container before its event is read
            givePidToAProcessOf(dropPid, otherCgroup);
        } finally {
            AgentThreads.release(reader);
            forks.destroyForcibly();
        }

        // then the drop is alerted ADDED in its own container, never in the other
        JsonNode alert = alerts.await(AlertLog.forPath(target, OTHER_DROP), ALERT_WAIT).orElseThrow(() ->
                new AssertionError("no alert for " + OTHER_DROP + " (pid " + dropPid + ", then " + other + "'s) in "
                        + target + "; " + doubtful(safeMetrics()) + "; alerts:\n" + alerts));
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alerts.alerts().stream().filter(AlertLog.forPath(other, OTHER_DROP)).toList())
                .as("the drop alerted in the container its pid went to").isEmpty();
        // and the contradiction /proc showed is counted
        assertThat(count(agent.get("/metrics").body(), "pid_reused")).as(doubtful(agent.get("/metrics").body()))
                .isGreaterThan(count(before, "pid_reused"));
    }

    /** The inode of the cgroup v2 directory of {@code pid}, 0 when it cannot be read (gone). */
    private static long cgroupInode(int pid) {
        try {
            String line = Files.readString(Path.of("/proc/" + pid + "/cgroup")).lines()
                    .filter(l -> l.startsWith("0::")).findFirst().orElseThrow();
            return ((Number) Files.getAttribute(Path.of("/sys/fs/cgroup" + line.substring(3)), "unix:ino")).longValue();
        } catch (java.io.IOException | RuntimeException gone) {
            return 0L;
        }
    }

    /**
     * Waits until pid {@code pid} is one of the other container's long sleeps: the kernel hands out ns_last_pid + 1
     * next, and that container starts a process every 50 ms.
     */
    private static void givePidToAProcessOf(int pid, long cgroup) throws Exception {
        for (int attempt = 0; attempt < 500; attempt++) {
            if (!Files.exists(Path.of("/proc/" + pid))) {
                Files.writeString(NS_LAST_PID, Integer.toString(pid - 1));
            }
            Thread.sleep(20);
            String cmdline;
            try {
                cmdline = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
            } catch (java.io.IOException free) {
                continue;
            }
            if (cmdline.equals("sleep\0" + "8\0") && cgroupInode(pid) == cgroup) {
                return;
            }
            if (cgroupInode(pid) != cgroup) {
                Thread.sleep(100); // another process took it; wait for it to go, or give up below
            }
        }
        throw new AssertionError("could not give pid " + pid + " to a process of the other container");
    }

    private String safeMetrics() {
        try {
            return agent.get("/metrics").body();
        } catch (Exception e) {
            return "";
        }
    }

    /** The pid of the process whose command line is {@code cmdline} (NUL-separated), waited for. */
    /** A drop's pid, and the host process that was given it. */
    private record DropAndHost(int dropPid, Process host) {
    }

    /**
     * With the exec reader held: runs a drop in the target container ({@link #runDropThatExits}), then gives its pid
     * to a host process; releases the reader.
     */
    private DropAndHost dropWhosePidAHostProcessTakes(String execIdPrefix, String drop, String argument)
            throws Exception {
        Thread reader = AgentThreads.named("fanotify-exec-reader").get(0);
        AgentThreads.hold(reader);
        try {
            int dropPid = runDropThatExits(execIdPrefix, drop, argument);
            return new DropAndHost(dropPid, hostProcessWithPid(dropPid));
        } finally {
            AgentThreads.release(reader);
        }
    }

    /**
     * Copies busybox to {@code drop} in the target container and runs it there with {@code argument} (an exec session
     * {@code execIdPrefix + suffix}); returns the drop's pid once it ran and exited.
     */
    private int runDropThatExits(String execIdPrefix, String drop, String argument) throws Exception {
        Process exec = new ProcessBuilder("ctr", "-n", containerd.namespace(), "task", "exec", "--exec-id",
                execIdPrefix + suffix, target, "/bin/sh", "-c",
                "cp /bin/busybox " + drop + " && " + drop + " " + argument).inheritIO().start();
        int pid = awaitProcess(drop + "\0" + argument + "\0");
        assertThat(exec.waitFor()).as("the drop ran").isZero();
        awaitGone(pid);
        return pid;
    }

    private static int awaitProcess(String cmdline) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
                for (Path proc : procs) {
                    try {
                        if (new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                                .equals(cmdline)) {
                            return Integer.parseInt(proc.getFileName().toString());
                        }
                    } catch (java.io.IOException gone) {
                        // exited meanwhile
                    }
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no process runs " + cmdline.replace('\0', ' '));
    }

    private static void awaitGone(int pid) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (Files.exists(Path.of("/proc/" + pid)) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(Path.of("/proc/" + pid)).as("the drop exited").doesNotExist();
    }

    /** A host process ({@code sleep}) given pid {@code pid}: the kernel hands out ns_last_pid + 1 next. */
    private static Process hostProcessWithPid(int pid) throws Exception {
        for (int attempt = 0; attempt < 500; attempt++) {
            Files.writeString(NS_LAST_PID, Integer.toString(pid - 1));
            Process p = new ProcessBuilder("sleep", "120").start();
            if (p.pid() == pid) {
                return p;
            }
            p.destroyForcibly().waitFor();
        }
        throw new AssertionError("could not give pid " + pid + " to a host process (other processes took it first)");
    }

    private static long count(String exposition, String reason) {
        Matcher m = Pattern.compile("^drift_fanotify_doubtful_total\\{reason=\"" + reason + "\"\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0L;
    }

    private static String doubtful(String exposition) {
        return String.join(", ", exposition.lines().filter(l -> l.startsWith("drift_fanotify_doubtful_total")
                || l.startsWith("drift_pipeline_stopped_early_total") || l.startsWith("drift_attribution_execs_total"))
                .toList());
    }
}
