package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.tier.TestTiers;
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
 * Pods that start, run a dropped binary and exit within about 100 ms (Jobs, init containers, {@code kubectl run --rm}),
 * against the whole agent (standalone, eBPF source, real containerd containers with the CRI plugin's cgroup path and
 * bundle annotations; the fanotify source in a subclass): each drop is alerted ADDED with its container, pod and path, exactly like a long-lived
 * container's, and the container's own entrypoint ({@code /bin/sh}, an image file) never. Everything the alert needs
 * was captured when the container appeared; by the time the exec is classified, its process, cgroup, bundle and (with
 * {@code --rm}) writable layer may all be gone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class ShortLivedContainerEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:shortlived";
    private static final int CONTAINERS = 25;
    private static final Duration ALERT_WAIT = Duration.ofSeconds(90);
    private static final String DROP = "/tmp/true";
    private static final String SCRIPT = "cp /bin/busybox " + DROP + "; " + DROP;
    private static final Set<String> IMAGE_FILES_RUN = Set.of("/bin/sh", "/bin/busybox", "/bin/cp");

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private ContainerdStage stage;
    private ContainerdHost containerd;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startTheAgent() throws Exception {
        stage = ContainerdStage.prepare("drift-e2e-shortlived");
        containerd = stage.containerd();
        alerts = stage.alerts();
        containerd.importBusybox(stage.work(), IMAGE);
        agent = stage.startAgent(source());
    }

    /** The exec source under test. */
    String source() {
        return "ebpf";
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void everyDropOfAPodThatLivedAFewMillisecondsIsAlertedAddedWithItsPodAndHashAndItsShellNever() throws Exception {
        // given 25 pods' containers that copy busybox to /tmp, run it and exit; containerd keeps each stopped
        // container's snapshot (its writable layer) until it is deleted
        Map<String, String> podById = runPods("keep", false);

        // then each drop is alerted ADDED, with its container, pod and the file's digest, and no image file ever is
        List<JsonNode> drops = awaitDropAlerts(podById);
        for (JsonNode alert : drops) {
            assertThat(alert.path("drift").path("sha256").isString())
                    .as("the writable layer still exists: the drop is hashed: %s", alert).isTrue();
        }
    }

    @Test
    void everyDropOfAPodDeletedWithItsWritableLayerRightAfterIsAlertedAddedWithItsPodAndItsShellNever()
            throws Exception {
        // given 25 pods' containers run with ctr run --rm: containerd deletes each, bundle and writable layer included,
        // as soon as its shell exited
        Map<String, String> podById = runPods("rm", true);

        // then each drop is still alerted ADDED with its container and pod; the missing digest is explained
        List<JsonNode> drops = awaitDropAlerts(podById);
        for (JsonNode alert : drops) {
            if (alert.path("drift").path("sha256").isNull()) {
                assertThat(alert.path("drift").path("reason").asString()).as(alert.toString())
                        .contains("not hashed");
            }
        }
    }

    /** Runs {@link #CONTAINERS} CRI-looking containers to completion; returns pod name by container id. */
    private Map<String, String> runPods(String label, boolean remove) {
        Map<String, String> podById = new TreeMap<>();
        for (int i = 0; i < CONTAINERS; i++) {
            String id = ContainerdHost.randomContainerId();
            String pod = "job-" + label + "-" + suffix + "-" + i;
            podById.put(id, pod);
            containerd.runToCompletion(IMAGE, id, SCRIPT, remove, ContainerdHost.criPodOptions(id,
                    UUID.randomUUID().toString(), pod, "batch", "worker", IMAGE));
        }
        return podById;
    }

    private List<JsonNode> awaitDropAlerts(Map<String, String> podById) throws Exception {
        Map<String, JsonNode> dropById = new TreeMap<>();
        long deadline = System.nanoTime() + ALERT_WAIT.toNanos();
        while (System.nanoTime() < deadline && dropById.size() < podById.size()) {
            for (JsonNode alert : alerts.alerts()) {
                String id = alert.path("container").path("id").asString();
                if (podById.containsKey(id) && DROP.equals(alert.path("drift").path("path").asString())) {
                    dropById.putIfAbsent(id, alert);
                }
            }
            Thread.sleep(100);
        }
        Thread.sleep(1000); // alerts of image files, if any, come with or before the drop's
        List<JsonNode> others = new ArrayList<>();
        for (JsonNode alert : alerts.alerts()) {
            String id = alert.path("container").path("id").asString();
            if (podById.containsKey(id) && !DROP.equals(alert.path("drift").path("path").asString())) {
                others.add(alert);
            }
        }
        String metrics = agent.get("/metrics").body();
        String summary = source() + ": " + podById.size() + " short-lived pods, " + dropById.size() + " drops alerted, kinds "
                + dropById.values().stream().map(a -> a.path("drift").path("kind").asString()).toList()
                + ", other alerts " + others.stream().map(a -> a.path("drift").path("kind").asString() + " "
                        + a.path("drift").path("path").asString()).toList()
                + ", unresolved " + unresolved(metrics) + ", capture " + metrics.lines()
                        .filter(l -> l.startsWith("drift_capture_") || l.startsWith("drift_attribution_execs_total"))
                        .toList();
        System.out.println(summary);

        assertThat(others.stream().filter(a -> IMAGE_FILES_RUN.contains(a.path("drift").path("path").asString())))
                .as("no alert for the container's own image files: " + summary).isEmpty();
        assertThat(others).as("no other alert: " + summary).isEmpty();
        assertThat(dropById.keySet()).as("every drop alerted: " + summary).isEqualTo(podById.keySet());
        for (Map.Entry<String, JsonNode> drop : dropById.entrySet()) {
            JsonNode alert = drop.getValue();
            assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
            assertThat(alert.path("pod").path("name").asString()).as(alert.toString())
                    .isEqualTo(podById.get(drop.getKey()));
            assertThat(alert.path("pod").path("namespace").asString()).as(alert.toString()).isEqualTo("batch");
            assertThat(alert.path("container").path("name").asString()).as(alert.toString()).isEqualTo("worker");
        }
        return List.copyOf(dropById.values());
    }

    /** drift_unresolved_total by reason, the non-zero ones. */
    private static Map<String, Double> unresolved(String exposition) {
        Map<String, Double> counts = new TreeMap<>();
        Matcher m = Pattern.compile("^drift_unresolved_total\\{reason=\"([a-z_]+)\"\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        while (m.find()) {
            double v = Double.parseDouble(m.group(2));
            if (v > 0) {
                counts.put(m.group(1), v);
            }
        }
        return counts;
    }
}
