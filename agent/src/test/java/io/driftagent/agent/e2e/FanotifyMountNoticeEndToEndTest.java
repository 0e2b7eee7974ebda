package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
 * A container that lives shorter than the mount watcher's reaction, made to happen every time: the watchers of the
 * host's mount table are held while a pod-like container ({@code ctr run --rm}) mounts its rootfs, runs a drop, exits
 * and is deleted with its writable layer and bundle; the exec reader is held until then too. No read of the mount
 * table ever shows its rootfs. The kernel's mount notices (Linux 6.15) told of it as it came: its drop must be
 * alerted ADDED with its container and pod, its image files never.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class FanotifyMountNoticeEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:f2-notice";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(30);
    private static final int CONTAINERS = 3;
    private static final String DROP = "/tmp/f2/true"; // busybox runs the applet its name says
    private static final Set<String> IMAGE_FILES_RUN = Set.of("/bin/sh", "/bin/busybox", "/bin/cp");

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private ContainerdStage stage;
    private ContainerdHost containerd;
    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startTheAgent() throws Exception {
        stage = ContainerdStage.prepare("f2-e2e");
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
    void theDropOfAContainerNoMountTableReadEverShowedIsAlertedAddedWithItsPod() throws Exception {
        // given the kernel's mount notices in use
        assertThat(sample(agent.get("/metrics").body(), "drift_mount_notices_total", "result", "unavailable"))
                .as("mount notices on kernel %s", System.getProperty("os.version")).isZero();
        List<Thread> watchers = AgentThreads.named("drift-host-mount-table");
        Thread reader = AgentThreads.named("fanotify-exec-reader").get(0);
        Map<String, String> podById = new TreeMap<>();
        for (int i = 0; i < CONTAINERS; i++) {
            String id = "f2-notice-" + suffix + "-" + i;
            String pod = "f2-job-" + suffix + "-" + i;
            podById.put(id, pod);
            // when the mount watchers and the exec reader are held while a container comes, runs a drop and is deleted
            AgentThreads.hold(reader);
            try {
                for (Thread watcher : watchers) {
                    AgentThreads.hold(watcher);
                }
                try {
                    containerd.runToCompletion(IMAGE, id, "mkdir -p /tmp/f2 && cp /bin/busybox " + DROP + " && " + DROP, true,
                            ContainerdHost.criPodOptions(id, UUID.randomUUID().toString(), pod, "batch", "worker",
                                    IMAGE));
                } finally {
                    for (Thread watcher : watchers) {
                        AgentThreads.release(watcher);
                    }
                }
                Thread.sleep(500); // the watchers read the table: the container is not in it
            } finally {
                AgentThreads.release(reader);
            }
        }

        // then each drop is alerted ADDED with its container and pod
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> container : podById.entrySet()) {
            java.util.Optional<JsonNode> alert = alerts.await(AlertLog.forPath(container.getKey(), DROP), ALERT_WAIT);
            if (alert.isEmpty()) {
                missing.add(container.getKey());
                continue;
            }
            assertThat(alert.get().path("drift").path("kind").asString()).as(alert.get().toString()).isEqualTo("ADDED");
            assertThat(alert.get().path("pod").path("name").asString()).as(alert.get().toString())
                    .isEqualTo(container.getValue());
            assertThat(alert.get().path("pod").path("namespace").asString()).as(alert.get().toString())
                    .isEqualTo("batch");
        }
        String metrics = agent.get("/metrics").body();
        String summary = CONTAINERS + " containers no mount table read showed: " + (CONTAINERS - missing.size())
                + " drops alerted, missing " + missing + "; " + metrics.lines()
                .filter(l -> l.startsWith("drift_mount_notices_total") || l.startsWith("drift_fanotify_gone_layer_total")
                        || l.startsWith("drift_pipeline_stopped_early_total{reason=\"unattributed\"}"))
                .toList();
        System.out.println(summary);
        assertThat(missing).as(summary).isEmpty();
        assertThat(sample(metrics, "drift_mount_notices_total", "result", "transient")).as(summary)
                .isGreaterThanOrEqualTo(CONTAINERS);
        // and none of their image files is
        Thread.sleep(1000);
        assertThat(alerts.alerts().stream().filter(a -> podById.containsKey(a.path("container").path("id").asString()))
                .filter(a -> IMAGE_FILES_RUN.contains(a.path("drift").path("path").asString())).toList())
                .as(alerts.toString()).isEmpty();
    }

    private static double sample(String exposition, String metric, String label, String value) {
        Matcher m = Pattern.compile("^" + metric + "\\{[^}]*" + label + "=\"" + value + "\"[^}]*\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
