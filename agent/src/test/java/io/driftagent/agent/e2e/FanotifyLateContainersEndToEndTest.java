package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.classification.MemfdExecProgram;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * The fanotify source (what {@code auto} falls back to without eBPF) against containers started AFTER the agent, on
 * real containerd: the host root mark alone reports such a container's execs as layer files of the host disk, so the
 * source must watch each new container's filesystems itself. Every drift scenario must be alerted with its kind and
 * path, a storm of drops must be alerted or counted lost, the self-test's own execs never alerted, and the process
 * facts (pid, ppid, uid, parent) of a drop that still runs must be in its alert.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
@Tag(TestTiers.CONTAINERS)
@Tag(TestTiers.KERNEL)
class FanotifyLateContainersEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:late";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);
    private static final int STORM = 200;

    private final int suffix = ThreadLocalRandom.current().nextInt(1_000_000);
    private final ContainerdHost containerd = new ContainerdHost("drift-e2e-late");

    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;

    @BeforeAll
    void startTheAgentBeforeAnyContainer() throws Exception {
        assertThat(HostCommands.isRoot()).as("needs root: fanotify marks, containerd").isTrue();
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        work = Files.createTempDirectory("drift-e2e-late");
        containerd.importBusybox(work, IMAGE);

        alerts = new AlertLog(work.resolve("alerts.jsonl"));
        agent = RunningAgent.startStandaloneAndAwaitReady(RunningAgent.alertingOnEveryDrift("fanotify", work, alerts));
    }

    @AfterAll
    void stopEverything() {
        if (agent != null) {
            agent.close();
        }
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void everyDriftScenarioInAContainerStartedAfterTheAgentIsAlertedWithItsKindAndPath() throws Exception {
        // given a container started after the agent, with a host directory and a tmpfs as volumes
        String id = "drift-e2e-late-" + suffix;
        Path volume = Files.createDirectories(work.resolve("volume"));
        int pid = containerd.run(IMAGE, id, "--mount", "type=bind,src=" + volume + ",dst=/vol,options=rbind:rw",
                "--mount", "type=tmpfs,src=tmpfs,dst=/scratch,options=rw");
        Map<String, String> layers = rootLayersOf(pid);
        String lowerDrop = layers.get("lowerdir") + "/tmp/sleep";
        String upperDrop = layers.get("upperdir") + "/tmp/sleep";

        // when each scenario execs its file once
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("/tmp/wget", "ADDED");
        containerd.exec(id, "cp /bin/busybox /tmp/wget && /tmp/wget --help > /dev/null 2>&1; true");
        expected.put("/tmp/run.sh", "ADDED");
        containerd.exec(id, "printf '#!/bin/sh\\necho ran\\n' > /tmp/run.sh && chmod +x /tmp/run.sh && /tmp/run.sh");
        expected.put("/usr/bin/tool", "MODIFIED");
        containerd.exec(id, "cat /usr/bin/tool > /tmp/t && echo tampered >> /tmp/t && cat /tmp/t > /usr/bin/tool"
                + " && /usr/bin/tool true; true");
        expected.put("/usr/bin/victim", "MODIFIED");
        containerd.exec(id, "printf '#!/bin/sh\\necho replaced\\n' > /usr/bin/victim && /usr/bin/victim");
        expected.put("/opt/app/nc", "ADDED");
        containerd.exec(id, "cp /bin/busybox /opt/app/nc && /opt/app/nc --help > /dev/null 2>&1; true");
        expected.put(lowerDrop, "ADDED");
        containerd.exec(id, "mkdir -p " + layers.get("lowerdir") + "/tmp && cp /usr/bin/tool " + lowerDrop
                + " && echo x >> " + lowerDrop + " && " + lowerDrop + " 0; true");
        expected.put(upperDrop, "ADDED");
        containerd.exec(id, "mkdir -p " + layers.get("upperdir") + "/tmp && cp /usr/bin/tool " + upperDrop
                + " && echo x >> " + upperDrop + " && " + upperDrop + " 0; true");
        expected.put("/vol/curl", "MOUNT");
        containerd.exec(id, "cp /bin/busybox /vol/curl && /vol/curl --help > /dev/null 2>&1; true");
        expected.put("/scratch/nc", "MOUNT");
        containerd.exec(id, "cp /bin/busybox /scratch/nc && /scratch/nc --help > /dev/null 2>&1; true");
        expected.put("/scratch/run.sh", "MOUNT");
        containerd.exec(id, "printf '#!/bin/sh\\necho ran\\n' > /scratch/run.sh && chmod +x /scratch/run.sh"
                + " && /scratch/run.sh");
        expected.put("/tmp/gone", "FILELESS");
        containerd.exec(id, "cp /bin/busybox /tmp/gone && exec 3</tmp/gone && rm /tmp/gone && /proc/self/fd/3 true; true");
        // and the image's own files, also after a chmod copy-up
        containerd.exec(id, "/bin/ls / > /dev/null && chmod 0700 /bin/busybox && /bin/cat /dev/null && /opt/app/run.sh 0");

        // then every one is alerted with its kind and path, and no image file is
        Map<String, String> alerted = new TreeMap<>();
        long deadline = System.nanoTime() + ALERT_WAIT.toNanos();
        do {
            alerted.clear();
            for (JsonNode alert : alerts.alerts()) {
                if (id.equals(alert.path("container").path("id").asString())) {
                    alerted.merge(alert.path("drift").path("path").asString(),
                            alert.path("drift").path("kind").asString(), (a, b) -> a.contains(b) ? a : a + "," + b);
                }
            }
            if (alerted.keySet().containsAll(expected.keySet())) {
                break;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        Thread.sleep(500); // late alerts for the image's files, if any
        for (JsonNode alert : alerts.alerts()) {
            if (id.equals(alert.path("container").path("id").asString())) {
                alerted.merge(alert.path("drift").path("path").asString(),
                        alert.path("drift").path("kind").asString(), (a, b) -> a.contains(b) ? a : a + "," + b);
            }
        }
        Map<String, String> missedOrWrong = new TreeMap<>();
        expected.forEach((path, kind) -> {
            if (!kind.equals(alerted.get(path))) {
                missedOrWrong.put(path, "expected " + kind + ", alerted " + alerted.get(path));
            }
        });
        Set<String> unexpected = new TreeSet<>(alerted.keySet());
        unexpected.removeAll(expected.keySet());
        unexpected.remove("/proc/self/fd/3"); // the deleted file's path as exec'd, if a source reports it so
        String summary = "fanotify, container started after the agent: " + (expected.size() - missedOrWrong.size())
                + " of " + expected.size() + " scenarios alerted right; wrong or missing " + missedOrWrong
                + "; other alerts " + unexpected.stream().map(p -> p + "=" + alerted.get(p)).toList()
                + "; metrics " + lossesAndMarks(agent.get("/metrics").body());
        System.out.println(summary);
        assertThat(missedOrWrong).as(summary).isEmpty();
        assertThat(unexpected).as(summary).isEmpty();
    }

    @Test
    void aContainersFirstExecOfADropIsAlertedAdded() throws Exception {
        // given a container started after the agent whose entrypoint's first command runs a drop
        String id = "drift-e2e-late-first-" + suffix;

        HostCommands.run("ctr", "-n", containerd.namespace(), "run", "-d", IMAGE, id, "/bin/sh", "-c",
                "cp /bin/busybox /tmp/sleep && exec /tmp/sleep 600");

        JsonNode alert = alerts.await(AlertLog.forPath(id, "/tmp/sleep"), ALERT_WAIT).orElseThrow(
                () -> new AssertionError("no alert for /tmp/sleep in " + id + ": " + alerts));
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alerts.alerts()).as("the image's /bin/sh, /bin/cp are no drift")
                .noneMatch(AlertLog.forPath(id, "/bin/sh")).noneMatch(AlertLog.forPath(id, "/bin/busybox"));
        containerd.remove(id);
    }

    @Test
    void aRunningDropsAlertCarriesItsPidParentAndUid() throws Exception {
        // given a container started after the agent
        String id = "drift-e2e-late-facts-" + suffix;
        containerd.run(IMAGE, id);

        // when a drop runs for a while under a shell, as root ("; true": the shell must not exec the drop in its own
        // place, it stays the drop's living parent)
        containerd.exec(id, "cp /bin/busybox /tmp/sleep && chmod 755 /tmp/sleep"
                + " && /tmp/sleep 3; true");

        // then its alert names the process, its parent and its uid
        JsonNode alert = alerts.await(AlertLog.forPath(id, "/tmp/sleep"), Duration.ofSeconds(60)).orElseThrow(
                () -> new AssertionError("no alert for /tmp/sleep in " + id + "; "
                        + lossesAndMarksOrNothing() + ": " + alerts));
        JsonNode process = alert.path("process");
        assertThat(process.path("pid").asInt()).as(alert.toString()).isPositive();
        assertThat(process.path("ppid").asInt()).as(alert.toString()).isPositive();
        assertThat(process.path("uid").asInt(-1)).as(alert.toString()).isEqualTo(0);
        assertThat(process.path("parent").path("pid").asInt()).as(alert.toString())
                .isEqualTo(process.path("ppid").asInt());
        assertThat(process.path("parent").path("exe").asString()).as(alert.toString()).isNotBlank();
    }

    @Test
    void aProcessRunningFromAMemfdInANewContainerIsAlertedFileless() throws Exception {
        // given a container started after the agent, with a launcher that copies busybox into a memfd and execs it
        String id = "drift-e2e-late-memfd-" + suffix;
        Path volume = Files.createDirectories(work.resolve("memfd-volume"));
        Path launcher = MemfdExecProgram.compileInto(volume);
        assertThat(launcher).as("clang or cc with a static libc builds the memfd launcher").isNotNull();
        containerd.run(IMAGE, id, "--mount", "type=bind,src=" + volume + ",dst=/vol,options=rbind:ro");

        // when it runs (fanotify raises no event for the memfd exec)
        HostCommands.run("ctr", "-n", containerd.namespace(), "task", "exec", "-d", "--exec-id", "memfd", id,
                "/vol/memfdexec", "/bin/busybox");
        MemfdExecProgram.awaitMemfdProcess(id);

        // then the rescan finds it running from the memfd and it is alerted FILELESS
        JsonNode alert = alerts.await(a -> id.equals(a.path("container").path("id").asString())
                && "FILELESS".equals(a.path("drift").path("kind").asString()), ALERT_WAIT).orElseThrow(
                        () -> new AssertionError("no FILELESS alert in " + id + ": " + alerts));
        assertThat(alert.path("drift").path("path").asString()).as(alert.toString()).startsWith("/memfd:");
        assertThat(alert.path("process").path("ppid").asInt()).as(alert.toString()).isPositive();
    }

    @Test
    void aStormOfDropsInANewContainerIsAlertedOrCountedLost() throws Exception {
        // given a container started after the agent
        String id = "drift-e2e-late-storm-" + suffix;
        containerd.run(IMAGE, id);
        long lostBefore = sourceLosses(agent.get("/metrics").body());

        // when it runs 200 distinct drops as fast as it can
        containerd.exec(id, "i=0; while [ $i -lt " + STORM + " ]; do cp /bin/busybox /tmp/d$i; i=$((i+1)); done;"
                + " i=0; while [ $i -lt " + STORM + " ]; do /tmp/d$i true; i=$((i+1)); done; true");

        // then each is alerted, or its loss is counted
        Set<String> seen = new TreeSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        do {
            for (JsonNode alert : alerts.alerts()) {
                String path = alert.path("drift").path("path").asString();
                if (id.equals(alert.path("container").path("id").asString()) && path.matches("/tmp/d[0-9]+")) {
                    seen.add(path);
                }
            }
            if (seen.size() >= STORM) {
                break;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        long lost = sourceLosses(agent.get("/metrics").body()) - lostBefore;
        String summary = "fanotify storm of " + STORM + " drops in a container started after the agent: alerted "
                + seen.size() + ", counted lost " + lost + "; " + lossesAndMarks(agent.get("/metrics").body());
        System.out.println(summary);
        assertThat(seen.size() + lost).as(summary).isGreaterThanOrEqualTo(STORM);
    }

    @Test
    void theSelfTestsOwnExecsAreNeverAlerted() throws Exception {
        // given the agent ran its self-test at start (it is ready); when it runs it once more
        RunningAgent.Response again = agent.get("/readyz");
        assertThat(again.status()).as(again.body()).isEqualTo(200);

        // then no alert names the self-test's sandbox, its canary or the host tools that set it up
        Thread.sleep(1000);
        List<String> selfTest = new ArrayList<>();
        for (JsonNode alert : alerts.alerts()) {
            String path = alert.path("drift").path("path").asString();
            String container = alert.path("container").path("id").asString();
            if (container.contains("selftest-") || path.contains("drift-canary") || path.endsWith("/chroot")
                    || path.endsWith("/unshare") || path.endsWith("/mount") || container.isEmpty()) {
                selfTest.add(alert.toString());
            }
        }
        assertThat(selfTest).isEmpty();
    }

    private String lossesAndMarksOrNothing() {
        try {
            return lossesAndMarks(agent.get("/metrics").body());
        } catch (Exception e) {
            return "no metrics: " + e;
        }
    }

    private static long sourceLosses(String exposition) {
        Matcher m = Pattern.compile("^drift_source_lost_total\\{[^}]*\\}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE)
                .matcher(exposition);
        long sum = 0;
        while (m.find()) {
            sum += (long) Double.parseDouble(m.group(1));
        }
        return sum;
    }

    private static String lossesAndMarks(String exposition) {
        return String.join(", ", exposition.lines().filter(l -> !l.startsWith("#"))
                .filter(l -> l.startsWith("drift_source_lost_total") || l.startsWith("drift_fanotify")
                        || l.startsWith("drift_pipeline_stopped_early_total"))
                .filter(l -> !l.endsWith(" 0.0")).toList());
    }

    /** The top lowerdir and the upperdir host paths of the root overlay of process {@code pid}. */
    private static Map<String, String> rootLayersOf(int pid) throws Exception {
        String root = null;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"))) {
            if (line.split(" ")[4].equals("/")) {
                root = line;
            }
        }
        assertThat(root).as("root mount of %s", pid).contains(" - overlay ");
        Map<String, String> layers = new TreeMap<>();
        Matcher m = Pattern.compile("(lowerdir|upperdir)=([^,\\s]+)").matcher(root.substring(root.indexOf(" - overlay ")));
        while (m.find()) {
            layers.put(m.group(1), m.group(2).split(":")[0]);
        }
        assertThat(layers).containsKeys("lowerdir", "upperdir");
        return layers;
    }
}
