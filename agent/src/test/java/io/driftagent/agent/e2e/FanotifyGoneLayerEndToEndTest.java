package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
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
 * The fanotify fallback's last attribution gap, made to happen every time: the mount watcher is held while a container
 * mounts its rootfs and runs a drop (so its overlay is not marked yet and the host-root mark alone reports the exec,
 * as the writable layer's real file through a layer clone never matched), then released while the container still
 * runs (its mount line is read, the container captured); the exec reader is held until the container and its
 * writable layer are deleted. The event then names a deleted host-disk file by its path in a layer that no longer
 * exists. It must still be alerted ADDED with its container and pod, and the container's image files never.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class FanotifyGoneLayerEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:fg";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(30);
    private static final String DROP = "/tmp/fgdrop";
    private static final Set<String> IMAGE_FILES_RUN = Set.of("/bin/sh", "/bin/busybox", "/bin/cp", "/bin/touch",
            "/bin/sleep");
    private static final Pattern UPPERDIR = Pattern.compile("upperdir=([^,\\s]+)");

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private final ContainerdHost containerd = new ContainerdHost("fg-e2e");

    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startTheAgent() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: the agent marks filesystems; containerd");
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        work = Files.createTempDirectory("fg-e2e");
        containerd.importBusybox(work, IMAGE);
        Path policy = Files.writeString(work.resolve("policy.yaml"), RunningAgent.ALERT_ON_EVERY_DRIFT);
        alerts = new AlertLog(work.resolve("alerts.jsonl"));
        agent = RunningAgent.startStandaloneAndAwaitReady(RunningAgent.standaloneFlags("fanotify", policy, alerts.file()));
    }

    @AfterAll
    void stopEverything() {
        if (agent != null) {
            agent.close();
        }
        containerd.remove("fg-gone-" + suffix);
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void aDropOfAContainerDeletedWithItsWritableLayerBeforeItsOverlayWasMarkedAndItsEventReadIsAlertedAddedWithItsPod()
            throws Exception {
        // given the mount watcher and the exec reader held
        String id = "fg-gone-" + suffix;
        String pod = "fg-job-" + suffix;
        // (the container capture's and the fanotify source's mount table watchers, one thread each where they read
        // different host processes' tables)
        List<Thread> watchers = AgentThreads.named("drift-host-mount-table");
        Thread reader = AgentThreads.named("fanotify-exec-reader").get(0);
        String marksBefore = agent.get("/metrics").body();
        Path upper;
        AgentThreads.hold(reader);
        try {
            for (Thread watcher : watchers) {
                AgentThreads.hold(watcher);
            }
            try {
                // when a container mounts its rootfs and runs a drop while its overlay cannot be marked yet
                List<String> command = new ArrayList<>(List.of("ctr", "-n", containerd.namespace(), "run", "-d"));
                command.addAll(List.of(ContainerdHost.criPodOptions(id, UUID.randomUUID().toString(), pod, "batch",
                        "worker", IMAGE)));
                command.addAll(List.of(IMAGE, id, "/bin/sh", "-c",
                        "cp /bin/busybox " + DROP + " && " + DROP + " true; touch /tmp/fgran; sleep 600"));
                HostCommands.run(command.toArray(String[]::new));
                upper = upperDirOf(containerd.initPid(id));
                awaitFile(upper.resolve("tmp/fgran"), true);
            } finally {
                for (Thread watcher : watchers) {
                    AgentThreads.release(watcher);
                }
            }
            // and the watcher reads its mount line (and marks it: too late for the drop) while it still runs
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (marked(agent.get("/metrics").body()) <= marked(marksBefore) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(marked(agent.get("/metrics").body())).as("the watcher marked the container's overlay")
                    .isGreaterThan(marked(marksBefore));
            // and the container is deleted with its writable layer before the drop's event is read
            containerd.remove(id);
            awaitFile(upper, false);
            Thread.sleep(500); // the watcher reads the unmount
        } finally {
            AgentThreads.release(reader);
        }

        // then the drop is alerted ADDED with its container, pod and the path the process used
        java.util.Optional<JsonNode> awaited = alerts.await(AlertLog.forPath(id, DROP), ALERT_WAIT);
        String metrics = agent.get("/metrics").body();
        JsonNode alert = awaited.orElseThrow(() -> new AssertionError("no alert for " + DROP + " in container " + id
                + "; gone-layer placements " + goneLayer(metrics) + "; " + unattributed(metrics) + "; alerts:\n" + alerts));
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("container").path("id").asString()).as(alert.toString()).isEqualTo(id);
        assertThat(alert.path("pod").path("name").asString()).as(alert.toString()).isEqualTo(pod);
        assertThat(alert.path("pod").path("namespace").asString()).as(alert.toString()).isEqualTo("batch");
        assertThat(goneLayer(agent.get("/metrics").body())).as("placed by the file's creation time").contains("placed=1");
        // and none of the container's image files is
        Thread.sleep(1000);
        List<JsonNode> imageFileAlerts = alerts.alerts().stream()
                .filter(a -> a.path("container").path("id").asString().equals(id))
                .filter(a -> IMAGE_FILES_RUN.contains(a.path("drift").path("path").asString())).toList();
        assertThat(imageFileAlerts).as(alerts.toString()).isEmpty();
    }

    private static Path upperDirOf(int pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"))) {
            if (line.split(" ")[4].equals("/") && line.contains(" - overlay ")) {
                Matcher m = UPPERDIR.matcher(line);
                if (m.find()) {
                    return Path.of(m.group(1));
                }
            }
        }
        throw new AssertionError("no overlay root with an upperdir for pid " + pid);
    }

    private static void awaitFile(Path path, boolean present) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Files.exists(path) != present && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(Files.exists(path)).as("%s %s", path, present ? "appears" : "is deleted").isEqualTo(present);
    }

    /** drift_fanotify_mount_marks_total{result="marked"}. */
    private static double marked(String exposition) {
        Matcher m = Pattern.compile("^drift_fanotify_mount_marks_total\\{[^}]*result=\"marked\"[^}]*\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** drift_fanotify_gone_layer_total by outcome, e.g. "placed=1 ambiguous=0 unknown=0". */
    private static String goneLayer(String exposition) {
        Matcher m = Pattern.compile("^drift_fanotify_gone_layer_total\\{[^}]*outcome=\"([a-z]+)\"[^}]*\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            out.append(m.group(1)).append('=').append((long) Double.parseDouble(m.group(2))).append(' ');
        }
        return out.toString().trim();
    }

    private static String unattributed(String exposition) {
        return exposition.lines().filter(l -> l.startsWith("drift_pipeline_stopped_early_total{"))
                .collect(java.util.stream.Collectors.joining(", "));
    }
}
