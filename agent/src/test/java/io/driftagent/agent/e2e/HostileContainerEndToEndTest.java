package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * What a process inside a container controls, played against the whole agent (standalone, the kernel's exec source,
 * real containerd containers): the path it execs a drop from (a host layer's path recreated inside the container, a
 * name that is not UTF-8) and how long its container lives. Every drop must be alerted as drift with the path the
 * process used; the image's own files never. The fanotify source runs the same scenarios in a subclass.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class HostileContainerEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:hostile";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);
    private static final int SHORT_LIVED_CONTAINERS = 25;
    private static final Duration SHORT_LIVED_ALERT_WAIT = Duration.ofSeconds(60);
    /** The image's files a short-lived container of the test runs: never drift. */
    private static final java.util.Set<String> IMAGE_FILES_RUN = java.util.Set.of("/bin/sh", "/bin/busybox", "/bin/cp");
    private static final Pattern SUPER_OPTION = Pattern.compile("(lowerdir|upperdir)=([^,\\s]+)");

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private final String target = "drift-e2e-hostile-" + suffix;

    private ContainerdStage stage;
    private ContainerdHost containerd;
    private AlertLog alerts;
    private RunningAgent agent;
    private int targetPid;

    @BeforeAll
    void startATargetContainerAndTheAgent() throws Exception {
        stage = ContainerdStage.prepare("drift-e2e-hostile");
        containerd = stage.containerd();
        alerts = stage.alerts();
        containerd.importBusybox(stage.work(), IMAGE);
        targetPid = containerd.run(IMAGE, target);

        agent = stage.startAgent(source());
    }

    /** The exec source under test. */
    String source() {
        return "ebpf";
    }

    /**
     * Whether the source captures, with the exec, what attributes it to its container (eBPF: the cgroup id and mount
     * namespace, read in the kernel at the exec): then every drop of a short-lived container must be alerted, and
     * nothing else. A source that reads them from /proc afterwards cannot attribute an exec whose process is gone:
     * such a drop must still be counted.
     */
    boolean attributesExecsOfExitedProcesses() {
        return true;
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void aDropUnderAnImageLayersHostPathRecreatedInTheContainerIsAddedWithThePathTheProcessUsed() throws Exception {
        String lower = layersOf(targetPid).get("lowerdir").get(0);
        String drop = lower + "/tmp/sleep";

        containerd.exec(target, "mkdir -p " + lower + "/tmp && cp /usr/bin/tool " + drop + " && echo x >> " + drop
                + " && " + drop + " 1; true");

        JsonNode alert = awaitAlert(target, drop);
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("drift").path("sha256").isString()).as(alert.toString()).isTrue();
    }

    @Test
    void aDropUnderTheWritableLayersHostPathRecreatedInTheContainerIsAddedWithThePathTheProcessUsed() throws Exception {
        String upper = layersOf(targetPid).get("upperdir").get(0);
        String drop = upper + "/tmp/sleep";

        containerd.exec(target, "mkdir -p " + upper + "/tmp && cp /usr/bin/tool " + drop + " && echo x >> " + drop
                + " && " + drop + " 1; true");

        JsonNode alert = awaitAlert(target, drop);
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
    }

    @Test
    void aDropWhoseNameIsNotUtf8IsAddedAndItsPathBytesRoundTrip() throws Exception {
        byte[] name = nameBytes("/tmp/latin", 0xE9, "X");

        containerd.exec(target, "n=/tmp/$(printf 'latin\\351X'); printf '#!/bin/sh\\nsleep 1\\n' > \"$n\""
                + " && chmod +x \"$n\" && \"$n\"; true");

        JsonNode alert = awaitAlert(target, "/tmp/latin\uFFFDX");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(Base64.getDecoder().decode(alert.path("drift").path("pathBytes").asString()))
                .as("pathBytes of %s", alert).isEqualTo(name);
        assertThat(alert.path("drift").path("sha256").isString()).as(alert.toString()).isTrue();
    }

    @Test
    void everyShortLivedContainersDropIsAlertedAndItsImageShellNever() throws Exception {
        String prefix = "drift-e2e-short-" + suffix + "-";
        List<String> ids = new ArrayList<>();
        String before = agent.get("/metrics").body();
        for (int i = 0; i < SHORT_LIVED_CONTAINERS; i++) {
            String id = prefix + i;
            ids.add(id);
            containerd.runToCompletion(IMAGE, id, "cp /bin/busybox /tmp/true; /tmp/true");
        }

        Map<String, String> kindById = new TreeMap<>();
        List<String> notAdded = new ArrayList<>();
        // metadata of a deleted container is retried before the alert goes out with what is known: wait for that too
        long deadline = System.nanoTime() + SHORT_LIVED_ALERT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode alert : alerts.alerts()) {
                String id = alert.path("container").path("id").asString();
                if (ids.contains(id) && "/tmp/true".equals(alert.path("drift").path("path").asString())) {
                    String kind = alert.path("drift").path("kind").asString();
                    if (kindById.putIfAbsent(id, kind) == null && !kind.equals("ADDED")) {
                        notAdded.add(kind + ": " + alert.path("drift").path("reason").asString());
                    }
                }
            }
            if (kindById.size() == ids.size()) {
                break;
            }
            Thread.sleep(100);
        }
        long lost = countedLosses(agent.get("/metrics").body()) - countedLosses(before);
        // a drop tied to the wrong container (e.g. one whose overlay device the next container reused) shows as a
        // second alert of that container and a missing one of its own; one exec emitted twice, as a second alert with
        // the same pid and file (the summary lists them)
        Map<String, Long> dropAlertsById = alerts.alerts().stream()
                .filter(a -> ids.contains(a.path("container").path("id").asString()))
                .filter(a -> "/tmp/true".equals(a.path("drift").path("path").asString()))
                .collect(Collectors.groupingBy(a -> a.path("container").path("id").asString(), TreeMap::new,
                        Collectors.counting()));
        List<String> alertedTwice = dropAlertsById.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(Map.Entry::getKey).toList();
        List<JsonNode> otherAlerts = alerts.alerts().stream()
                .filter(a -> a.path("container").path("id").asString().startsWith(prefix))
                .filter(a -> !"/tmp/true".equals(a.path("drift").path("path").asString())).toList();
        List<JsonNode> imageFileAlerts = otherAlerts.stream()
                .filter(a -> IMAGE_FILES_RUN.contains(a.path("drift").path("path").asString())).toList();
        Map<String, Long> kinds = kindById.values().stream()
                .collect(Collectors.groupingBy(k -> k, TreeMap::new, Collectors.counting()));
        String stoppedEarly = agent.get("/metrics").body().lines()
                .filter(l -> l.startsWith("drift_pipeline_stopped_early_total{")
                        || l.startsWith("drift_pipeline_late_metadata_total{")
                        || l.startsWith("drift_fanotify_gone_layer_total{") || l.startsWith("drift_fanotify_reused_device_total")
                        || l.startsWith("drift_source_lost_total{") && !l.endsWith(" 0.0"))
                .collect(Collectors.joining(", "));
        String summary = source() + ": " + ids.size() + " short-lived containers, drop alerts by kind " + kinds
                + ", not alerted " + (ids.size() - kindById.size()) + ", counted losses " + lost
                + ", alerts for image files " + imageFileAlerts.size() + ", other alerts "
                + otherAlerts.stream().map(a -> a.path("drift").path("kind").asString() + " "
                        + a.path("drift").path("path").asString()).toList() + ", drops not ADDED " + notAdded
                + ", containers alerted twice for a drop " + alertedTwice + " " + dropAlertsOf(alertedTwice, ids)
                + " (" + stoppedEarly + ")";
        System.out.println(summary);

        assertThat(imageFileAlerts).as(summary).isEmpty();
        assertThat(agent.get("/metrics").body()).as("execs not attributable to a container are counted")
                .contains("drift_pipeline_stopped_early_total{reason=\"unattributed\"}");
        if (attributesExecsOfExitedProcesses()) {
            assertThat(kindById.size() + lost).as("every drop alerted or its loss counted: " + summary)
                    .isGreaterThanOrEqualTo(ids.size());
            assertThat(otherAlerts).as(summary).isEmpty();
            assertThat(alertedTwice).as("no drop tied to another container: " + summary).isEmpty();
            assertThat(kindById).as("every drop alerted: " + summary).hasSize(ids.size());
            assertThat(kinds.getOrDefault("ADDED", 0L)).as("drops classified ADDED: " + summary)
                    .isGreaterThanOrEqualTo(ids.size() * 9L / 10);
        } else {
            // fanotify gives a pid, not a cgroup: a drop whose process and container are both gone before the event
            // is read can be lost without being counted (seen: 2 of 25 under load; docs/security.md states the gap)
            assertThat(kindById.size() + lost).as("drops alerted or their loss counted: " + summary)
                    .isGreaterThanOrEqualTo(ids.size() * 8L / 10);
        }
    }

    /**
     * The drop alerts of these containers as "id: pid sha256-prefix kind", and the containers whose drop was not
     * alerted: one drop alerted twice (the same pid and file) is told from another container's drop (another pid).
     */
    private String dropAlertsOf(List<String> containers, List<String> ids) throws Exception {
        if (containers.isEmpty()) {
            return "";
        }
        List<JsonNode> drops = alerts.alerts().stream()
                .filter(a -> "/tmp/true".equals(a.path("drift").path("path").asString())).toList();
        List<String> described = drops.stream().filter(a -> containers.contains(a.path("container").path("id").asString()))
                .map(a -> a.path("container").path("id").asString() + ": pid " + a.path("process").path("pid").asInt()
                        + " sha256 " + a.path("drift").path("sha256").asString().substring(0,
                                Math.min(12, a.path("drift").path("sha256").asString().length()))
                        + " " + a.path("drift").path("kind").asString()).toList();
        List<String> silent = ids.stream().filter(id -> drops.stream()
                .noneMatch(a -> id.equals(a.path("container").path("id").asString()))).toList();
        return described + ", no drop alert: " + silent;
    }

    /** Execs the pipeline could not attribute to a container or dropped: the losses it counts. */
    private static long countedLosses(String exposition) {
        Matcher unattributedSample = Pattern.compile(
                "^drift_pipeline_stopped_early_total\\{reason=\"unattributed\"\\}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE)
                .matcher(exposition);
        long unattributed = unattributedSample.find() ? (long) Double.parseDouble(unattributedSample.group(1)) : 0;
        Matcher dropped = Pattern.compile("^(drift_pipeline_dropped_total|drift_pipeline_errors_total"
                + "|drift_source_lost_total|drift_pipeline_late_metadata_total)\\{([^}]*)\\}\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(exposition);
        long drops = 0;
        while (dropped.find()) {
            boolean loss = !dropped.group(1).equals("drift_pipeline_late_metadata_total")
                    || dropped.group(2).contains("parking_full");
            drops += loss ? (long) Double.parseDouble(dropped.group(3)) : 0;
        }
        return unattributed + drops;
    }

    /** The lowerdir (top first) and upperdir host paths of the root overlay of process {@code pid}. */
    private static Map<String, List<String>> layersOf(int pid) throws Exception {
        String root = null;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"))) {
            if (line.split(" ")[4].equals("/")) {
                root = line;
            }
        }
        assertThat(root).as("root mount of %s", pid).contains(" - overlay ");
        Map<String, List<String>> layers = new TreeMap<>();
        Matcher m = SUPER_OPTION.matcher(root.substring(root.indexOf(" - overlay ")));
        while (m.find()) {
            layers.put(m.group(1), List.of(m.group(2).split(":")));
        }
        assertThat(layers).containsKeys("lowerdir", "upperdir");
        assertThat(layers.get("lowerdir").get(0)).startsWith("/");
        return layers;
    }

    private static byte[] nameBytes(String head, int invalidByte, String tail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
        out.write(invalidByte);
        out.writeBytes(tail.getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private JsonNode awaitAlert(String containerId, String path) throws Exception {
        return stage.awaitAlert(containerId, path, ALERT_WAIT);
    }
}
