package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * Overlay devices are anonymous and the kernel hands the lowest free one to the next overlay at once, while a fanotify
 * event carries no time and no container: an exec read late may find its device serving another container. Made to
 * happen here with the exec reader held while containers come and go on one device number (each reuse checked on the
 * containers' roots, container creation retried until the kernel gives that number).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class FanotifyDeviceReuseEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:devreuse";
    private static final String LAYER_ONLY_DROP = "/tmp/drlayer";
    private static final String REUSED_DEVICE_DROP = "/tmp/drlater";
    private static final int ATTEMPTS = 8;
    private static final int ROUNDS = 4;
    private static final Duration OUTCOME_WAIT = Duration.ofSeconds(30);

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    /** The fanotify source's INFO lines: each exec counted doubtful is logged with its file's path. */
    private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> sourceLog =
            new ch.qos.logback.core.read.ListAppender<>();
    private ContainerdStage stage;
    private ContainerdHost containerd;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startTheAgent() throws Exception {
        sourceLog.start();
        sourceLogger().addAppender(sourceLog);
        stage = ContainerdStage.prepare("devreuse-e2e");
        containerd = stage.containerd();
        containerd.importBusybox(stage.work(), IMAGE);
        alerts = stage.alerts();
        agent = stage.startAgent("fanotify");
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
        sourceLogger().detachAppender(sourceLog);
    }

    private static ch.qos.logback.classic.Logger sourceLogger() {
        return (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(FanotifyExecSource.class);
    }

    /** Whether the source logged the exec of {@code path} as counted device_reused. */
    private boolean countedDeviceReused(String path) {
        List<ch.qos.logback.classic.spi.ILoggingEvent> lines;
        synchronized (sourceLog) { // the appender adds under this lock, on the reader's thread
            lines = List.copyOf(sourceLog.list);
        }
        return lines.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                .anyMatch(line -> line.startsWith("fanotify: the exec of " + path + " (")
                        && line.contains("reason=\"device_reused\""));
    }

    /**
     * An exec reported only as a layer's real file (its overlay not marked yet when it ran: the mount watchers held)
     * does not hold its overlay, so the device is freed with the container while the event waits. Here the device had
     * three lives during the wait: a container before the drop's (whose end the held watchers saw late, so its life
     * fits the drop's creation time too), the drop's, and one after. The drop's process is gone and its container
     * stopped (its writable layer kept): the drop is alerted in its own container or counted device_reused, never
     * alerted in either other one. (The watchers, released, read the first container gone and the drop's mounted in
     * one read, with the same mount id and device: that must still be a new overlay.)
     */
    @Test
    void aLayerOnlyDropWhoseDeviceServedThreeContainersWhileItWaitedIsNeverAlertedInAnotherOfThem() throws Exception {
        Thread reader = AgentThreads.named("fanotify-exec-reader").get(0);
        List<Thread> watchers = mountWatchers();
        String metricsBefore = agent.get("/metrics").body();
        String before = null;
        String owner = null;
        String after = null;
        long device = 0;
        for (int round = 0; round < ROUNDS && owner == null; round++) {
            // given a container running on some overlay device, seen by the watchers and captured
            before = "devreuse-before-" + suffix + "-" + round;
            device = rootDev(containerd.run(IMAGE, before));
            Thread.sleep(1000);
            // and the exec reader and the mount watchers held
            AgentThreads.hold(reader);
            watchers.forEach(FanotifyDeviceReuseEndToEndTest::hold);
            try {
                // when it is removed, and the next container, given its device, runs a drop before its overlay is
                // marked
                containerd.remove(before);
                String id = "devreuse-owner-" + suffix + "-" + round;
                int pid = runDetached(id, "while [ ! -e /tmp/drgo ]; do sleep 0.05; done; cp /bin/busybox "
                        + LAYER_ONLY_DROP + " && " + LAYER_ONLY_DROP + " true; touch /tmp/drran; exec sleep 600");
                if (rootDev(pid) == device) {
                    owner = id;
                    Files.writeString(Path.of("/proc/" + pid + "/root/tmp/drgo"), "");
                    awaitFile(Path.of("/proc/" + pid + "/root/tmp/drran"));
                } else {
                    containerd.remove(id); // another mount took the device first (no drop ran): again
                }
            } finally {
                watchers.forEach(FanotifyDeviceReuseEndToEndTest::release);
                if (owner == null) {
                    AgentThreads.release(reader);
                }
            }
        }
        assertThat(owner).as("a container got the device of the one removed before it in %d rounds", ROUNDS)
                .isNotNull();
        try {
            Thread.sleep(1000); // the watchers read the owner's mount line (and mark it: too late for the drop)
            // and that container is stopped, its writable layer kept, and a third container is given the device
            stopTask(owner);
            for (int attempt = 0; attempt < ATTEMPTS && after == null; attempt++) {
                String id = "devreuse-after-" + suffix + "-" + attempt;
                if (rootDev(containerd.run(IMAGE, id)) == device) {
                    after = id;
                } else {
                    containerd.remove(id);
                }
            }
            assertThat(after).as("a third container got device %d within %d attempts", device, ATTEMPTS).isNotNull();
            Thread.sleep(1000); // the watchers read its mount line, the capture registry captures it
        } finally {
            AgentThreads.release(reader);
        }

        // then the drop is alerted in its own container or counted device_reused
        long deadline = System.nanoTime() + OUTCOME_WAIT.toNanos();
        while (dropAlerts().isEmpty() && !countedDeviceReused(LAYER_ONLY_DROP) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(3000); // anything still in the pipeline
        String metrics = agent.get("/metrics").body();
        String summary = "device " + device + ": " + before + ", " + owner + ", " + after + "; " + counters(metrics)
                + "; alerts:\n" + alerts;
        List<JsonNode> dropAlerts = dropAlerts();
        String dropContainer = owner;
        assertThat(dropAlerts).as("the drop alerted in a container that is not its own: " + summary)
                .allMatch(a -> dropContainer.equals(a.path("container").path("id").asString()));
        if (dropAlerts.isEmpty()) {
            assertThat(countedDeviceReused(LAYER_ONLY_DROP)).as("the drop neither alerted nor counted: " + summary)
                    .isTrue();
            assertThat(deviceReused(metrics)).as(summary).isGreaterThan(deviceReused(metricsBefore));
        } else {
            assertThat(dropAlerts.get(0).path("drift").path("kind").asString()).as(summary).isEqualTo("ADDED");
        }
        System.out.println("FanotifyDeviceReuseEndToEndTest layer-only: " + (dropAlerts.isEmpty()
                ? "counted device_reused" : "alerted ADDED in its container") + "; " + summary);
    }

    /**
     * A container's root is watched through its process ({@code /proc/<pid>/root}, at its first exec) and that path
     * stays watched after the container is removed. The next container, given the freed overlay device, must still
     * have its own overlay marked: a drop it runs is alerted ADDED in it.
     */
    @Test
    void aDropInAContainerGivenTheDeviceOfARemovedWatchedContainerIsAlertedAddedInIt() throws Exception {
        String later = null;
        long device = 0;
        String tried = "";
        for (int round = 0; round < ROUNDS && later == null; round++) {
            // given a container whose root the source watches through its process (a drop of it alerted: attributed)
            String first = "devreuse-watched-" + suffix + "-" + round;
            device = rootDev(containerd.run(IMAGE, first));
            containerd.exec(first, "cp /bin/busybox /tmp/drfirst && /tmp/drfirst true; true");
            assertThat(alerts.await(AlertLog.forPath(first, "/tmp/drfirst"), OUTCOME_WAIT))
                    .as("the first container's drop alerted: %s", alerts).isPresent();
            // when it is removed, and a later container is given its overlay device
            containerd.remove(first);
            for (int attempt = 0; attempt < ATTEMPTS && later == null; attempt++) {
                String id = "devreuse-later-" + suffix + "-" + round + "-" + attempt;
                long dev = rootDev(containerd.run(IMAGE, id));
                tried += " " + id + "=" + dev;
                if (dev == device) {
                    later = id;
                } else {
                    containerd.remove(id);
                }
            }
        }
        assertThat(later).as("a container got the device of a removed one in %d rounds:%s", ROUNDS, tried)
                .isNotNull();
        Thread.sleep(1000); // its overlay seen by the mount watchers (and marked, with the fix)

        // and runs a drop
        containerd.exec(later, "cp /bin/busybox " + REUSED_DEVICE_DROP + " && " + REUSED_DEVICE_DROP + " true; true");

        // then the drop is alerted ADDED in that later container
        String laterId = later;
        JsonNode alert = alerts.await(AlertLog.forPath(later, REUSED_DEVICE_DROP), OUTCOME_WAIT).orElseThrow(
                () -> new AssertionError("no alert for " + REUSED_DEVICE_DROP + " in " + laterId + " on the reused device: "
                        + counters(metricsOrNothing()) + "; alerts:\n" + alerts));
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        // and by its overlay's own mark: on this host the layers share the root filesystem, whose mark alone would
        // report the drop as a layer file (where the layers have a filesystem of their own, nothing else sees it)
        assertThat(execsMarkedOnFilesystem(device))
                .as("a fanotify group of the agent marks the filesystem of device %d for FAN_OPEN_EXEC", device).isTrue();
        System.out.println("FanotifyDeviceReuseEndToEndTest watched device: " + laterId + " on device " + device
                + " alerted " + alert.path("drift").path("kind").asString());
    }

    /**
     * Whether a fanotify group of this process (the agent runs in it) has a filesystem mark for FAN_OPEN_EXEC on the
     * superblock of {@code dev}: {@code /proc/self/fdinfo} lists each mark, "sdev" in the kernel's encoding.
     */
    private static boolean execsMarkedOnFilesystem(long dev) throws java.io.IOException {
        String wanted = "fanotify sdev:" + Long.toHexString(DeviceNumber.major(dev) << 20 | DeviceNumber.minor(dev)) + " ";
        Pattern mask = Pattern.compile(" mask:([0-9a-f]+)");
        try (java.nio.file.DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                List<String> lines;
                try {
                    if (!Files.readSymbolicLink(fd).toString().equals("anon_inode:[fanotify]")) {
                        continue;
                    }
                    lines = Files.readAllLines(Path.of("/proc/self/fdinfo").resolve(fd.getFileName()));
                } catch (java.io.IOException e) {
                    continue; // closed meanwhile
                }
                for (String line : lines) {
                    Matcher m = mask.matcher(line);
                    if (line.startsWith(wanted) && m.find() && (Long.parseLong(m.group(1), 16) & 0x1000L) != 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private String metricsOrNothing() {
        try {
            return agent.get("/metrics").body();
        } catch (Exception e) {
            return "";
        }
    }

    private List<JsonNode> dropAlerts() throws java.io.IOException {
        return alerts.alerts().stream()
                .filter(a -> LAYER_ONLY_DROP.equals(a.path("drift").path("path").asString())).toList();
    }

    /**
     * The host mount table's watchers (the capture's and the source's) and the kernel mount notices' readers: held, a
     * new overlay is neither marked nor timed, and an unmount is timed when they are released.
     */
    private static List<Thread> mountWatchers() {
        List<Thread> found = new ArrayList<>(AgentThreads.named("drift-host-mount-table"));
        Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("drift-mount-notify") && t.isAlive()).forEach(found::add);
        return found;
    }

    private static void hold(Thread thread) {
        try {
            AgentThreads.hold(thread);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void release(Thread thread) {
        try {
            AgentThreads.release(thread);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts {@code id} detached running {@code script} with its /bin/sh; returns its init pid. */
    private int runDetached(String id, String script) {
        stage.onClose(() -> containerd.remove(id));
        HostCommands.run("ctr", "-n", containerd.namespace(), "run", "-d", IMAGE, id, "/bin/sh", "-c", script);
        return containerd.initPid(id);
    }

    /** Kills and deletes the task of {@code id} (its rootfs unmounted), the container and its snapshot kept. */
    private void stopTask(String id) throws InterruptedException {
        HostCommands.quietly("ctr", "-n", containerd.namespace(), "task", "kill", "-s", "SIGKILL", id);
        for (int i = 0; i < 50 && !HostCommands.works("ctr", "-n", containerd.namespace(), "task", "delete", id); i++) {
            Thread.sleep(100);
        }
        assertThat(HostCommands.run("ctr", "-n", containerd.namespace(), "task", "ls")).as("task %s deleted", id)
                .doesNotContain(id);
    }

    private static long rootDev(int pid) throws java.io.IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/" + pid + "/root"), "unix:dev")).longValue();
    }

    private static void awaitFile(Path path) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(path) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(path).as("the drop ran").exists();
    }

    private static long deviceReused(String exposition) {
        Matcher m = Pattern.compile("^drift_fanotify_doubtful_total\\{reason=\"device_reused\"\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0L;
    }

    private static String counters(String exposition) {
        return String.join(", ", exposition.lines().filter(l -> l.startsWith("drift_fanotify_doubtful_total")
                || l.startsWith("drift_pipeline_stopped_early_total") || l.startsWith("drift_fanotify_reused_device_total")
                || l.startsWith("drift_fanotify_gone_layer_total")).toList());
    }
}
