package io.driftagent.systest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.systest.pod.AgentThreadHold;
import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.scenario.SystemTestEnvironment;
import io.driftagent.systest.scenario.SystemTestExtension;
import io.driftagent.systest.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * Short-lived containers under the fanotify fallback source (`agent.source: fanotify`) in the chart's pod: a mount
 * namespace of its own, hostPID, the node's mount table read through /proc. A job-like container that drops a
 * binary, runs it and exits within about a second ({@code ctr run --rm}: containerd then deletes its rootfs mount,
 * writable layer and bundle) must be alerted with its container and pod, even when no read of the node's mount table
 * showed it: the agent's table watcher (and its exec reader) are held from the node with ptrace while it lives, as a
 * loaded node's are late. The pod reads the kernel's notices of the node's mount namespace for that, once: capture
 * and the source share one watcher of the node's mount table and one reader of its notices.
 */
@Tag("e2e")
@ExtendWith(SystemTestExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FanotifyShortLivedContainersSystemTest {

    private static final String WORKLOAD_IMAGE = "docker.io/drift-systest/busybox-short:1.0";
    private static final int CONTAINERS = 3;
    private static final String DROP = "/tmp/job/true"; // busybox runs the applet its name says
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);

    private final ContainerdHost containerd = new ContainerdHost("k8s.io");
    private SystemTestEnvironment env;
    private String digest;

    @BeforeAll
    void importTheWorkloadImage(SystemTestEnvironment environment) throws Exception {
        env = environment;
        digest = containerd.importBusybox(Files.createTempDirectory(env.work(), "short-workload"), WORKLOAD_IMAGE);
    }

    @AfterAll
    void removeTheWorkloads() {
        containerd.removeAll();
    }

    @Test
    void eachShortLivedContainersDropIsAlertedWithItsContainerAndPod() throws Exception {
        String node = ChartPod.newNodeName();
        Path fanotify = Files.writeString(Files.createTempFile(env.work(), "fanotify", ".yaml"),
                "agent:\n  source: fanotify\n");
        try (ChartPod pod = ChartPod.start(env, node, ChartPod.Options.defaults(node).withValuesFile(fanotify))) {
            PodAssertions.assertReadyWithinBudget(pod);
            String before = notices(pod.get("http", "/metrics").body());

            // when job-like containers each drop a binary, run it and exit within about a second, while the agent's
            // mount table watchers are held (as a loaded node's are late: no read of the table shows them) and its
            // exec reader too, until each container and its writable layer are deleted
            List<Workload> jobs = new ArrayList<>();
            try (AgentThreadHold hold = new AgentThreadHold(pod.container().hostPid())) {
                List<Integer> watchers = hold.named("drift-host-mount-table");
                // one watcher of the node's mount table and one reader of its notices, shared by capture and source
                assertThat(watchers).as("watchers of the node's mount table in the pod").hasSize(1);
                assertThat(hold.named("drift-mount-notify")).as("readers of the node's mount notices in the pod")
                        .hasSize(1);
                int reader = hold.named("fanotify-exec-reader").get(0);
                for (int i = 0; i < CONTAINERS; i++) {
                    Workload job = Workload.declare(pod.api(), node, "batch", "job-" + i, WORKLOAD_IMAGE, digest);
                    jobs.add(job);
                    hold.hold(reader);
                    watchers.forEach(hold::hold);
                    long start = System.nanoTime();
                    try {
                        containerd.runToCompletion(WORKLOAD_IMAGE, job.containerId(),
                                "mkdir -p /tmp/job && cp /bin/busybox " + DROP + " && " + DROP, true,
                                ContainerdHost.criPodOptions(job.containerId(), job.podUid(), job.podName(),
                                        job.namespace(), job.containerName(), WORKLOAD_IMAGE));
                    } finally {
                        watchers.forEach(hold::release);
                    }
                    System.out.printf("systest: %s ran to completion and was deleted in %d ms (%d mount table"
                            + " watchers and the exec reader held)%n", job.containerId(),
                            (System.nanoTime() - start) / 1_000_000, watchers.size());
                    Thread.sleep(500); // the watchers read the table: the container is not in it
                    hold.release(reader);
                }
            }

            // then each drop is alerted ADDED with its container and pod
            List<String> missing = new ArrayList<>();
            for (Workload job : jobs) {
                Optional<JsonNode> alert = pod.awaitAlert(AlertPredicates.forPath(job, DROP), ALERT_WAIT);
                if (alert.isEmpty()) {
                    missing.add(job.podName());
                    continue;
                }
                assertThat(alert.get().path("drift").path("kind").asString()).as(alert.get().toString())
                        .isEqualTo("ADDED");
                assertThat(alert.get().path("pod").path("name").asString()).as(alert.get().toString())
                        .isEqualTo(job.podName());
                assertThat(alert.get().path("pod").path("namespace").asString()).as(alert.get().toString())
                        .isEqualTo("batch");
            }
            String metrics = pod.get("http", "/metrics").body();
            String summary = CONTAINERS + " short-lived containers: " + (CONTAINERS - missing.size())
                    + " drops alerted with their container, missing " + missing + "; at Ready " + before
                    + ", after " + notices(metrics)
                    + "; alerts for " + DROP + ": " + pod.alerts().stream()
                    .filter(a -> DROP.equals(a.path("drift").path("path").asString(""))).toList();
            System.out.println("systest: " + summary);
            System.out.println("systest: the agent's start-up lines on mount notices: " + pod.container().stderr()
                    .lines().filter(l -> l.contains("mount notifications")).toList());
            if (!missing.isEmpty()) {
                List<String> ids = jobs.stream().filter(j -> missing.contains(j.podName()))
                        .map(Workload::containerId).toList();
                System.out.println("systest: the agent's log of the missing: " + pod.container().stderr().lines()
                        .filter(l -> l.contains(DROP) || ids.stream().anyMatch(id -> l.contains(id.substring(0, 12))))
                        .limit(40).toList());
            }
            assertThat(missing).as(summary).isEmpty();
            // the node's mount notices were read in the pod
            assertThat(sample(metrics, "result", "unavailable")).as(summary).isIn(-1.0, 0.0);
            assertThat(sample(metrics, "result", "described")).as(summary).isGreaterThanOrEqualTo(CONTAINERS);
        }
    }

    private static String notices(String exposition) {
        return exposition.lines().filter(l -> l.startsWith("drift_mount_notices_total")
                || l.startsWith("drift_pipeline_stopped_early_total{reason=\"unattributed\"}")
                || l.startsWith("drift_source_lost_total")).toList().toString();
    }

    /** The value of {@code drift_mount_notices_total} with that label, -1 when the series is absent. */
    private static double sample(String exposition, String label, String value) {
        Matcher m = Pattern.compile("^drift_mount_notices_total\\{[^}]*" + label + "=\"" + value
                + "\"[^}]*\\}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(exposition);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
