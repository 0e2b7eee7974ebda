package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole agent (standalone, the real classifier) blocking in real containerd containers that were started before
 * the agent: a victim container under a block rule, a bystander under a rule that blocks only its mounts (so it is
 * guarded too, and its added drift is alerted).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class ContainerdBlockingEndToEndTest {

    private static final String IMAGE = "docker.io/drift-block/busybox:e2e";
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: block-victim
                priority: 1
                action: block
                resourceScope:
                  - {field: containerName, operator: equals, values: [victim, storm]}
              - name: bystander-mounts
                priority: 2
                action: block
                driftKinds: [MOUNT]
                resourceScope:
                  - {field: containerName, operator: equals, values: [bystander]}
            defaultRule:
              action: alert
            """;
    private static final long BIG = 255L << 20;
    private static final Pattern RC = Pattern.compile("big-(\\d+) rc=(\\d+)");

    private final ContainerdHost containerd = new ContainerdHost("drift-block");
    private final String victim = ContainerdHost.randomContainerId();
    private final String bystander = ContainerdHost.randomContainerId();
    private final String stormy = ContainerdHost.randomContainerId();
    private Path work;
    private Path alerts;
    private int victimPid;
    private int bystanderPid;
    private int stormyPid;
    private AgentRuntime agent;

    @BeforeAll
    void startContainersThenTheAgent() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "containerd and fanotify need root");
        assumeTrue(ContainerdHost.available(), "containerd is not running (scripts/host-setup.sh starts it)");
        assumeTrue(BusyboxImage.available(), "needs busybox-static at /bin/busybox");
        work = Files.createTempDirectory("drift-block-ctr");
        containerd.importBusybox(work, IMAGE);
        // long-lived inits (the image's CMD: sleep) that predate the agent; nothing else runs in them
        victimPid = containerd.runAsCriContainer(IMAGE, victim, UUID.randomUUID().toString(), "victim-0", "shop", "victim");
        stormyPid = containerd.runAsCriContainer(IMAGE, stormy, UUID.randomUUID().toString(), "storm-0", "shop", "storm");
        bystanderPid = containerd.runAsCriContainer(IMAGE, bystander, UUID.randomUUID().toString(), "bystander-0", "shop",
                "bystander");

        Path policy = Files.writeString(work.resolve("policy.yaml"), POLICY);
        alerts = work.resolve("alerts.jsonl");
        AgentConfig config = new ConfigLoader(() -> "test-node").load(Optional.empty(), Map.of(), Map.of(
                Setting.STANDALONE, "true", Setting.POLICY_FILE, policy.toString(),
                Setting.ALERTS_TARGET, alerts.toString(), Setting.HTTP_BIND, "127.0.0.1", Setting.HTTP_PORT, "0",
                Setting.DEDUP_WINDOW, "0s"));
        agent = new AgentRuntime(new AgentAssembly(Clock.systemUTC()).assemble(config), Duration.ofSeconds(5));
        agent.start();
    }

    @AfterAll
    void stop() {
        if (agent != null) {
            agent.stop();
        }
        if (work != null) {
            containerd.removeAll();
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    /** A file in the container's writable layer, written from the host through its init's root. */
    private Path inContainer(int pid, String path) {
        return Path.of("/proc/" + pid + "/root" + path);
    }

    private void executable(Path file) throws Exception {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private record Exec(int exitCode, String output) {}

    /** {@code ctr task exec} of {@code command} as is (no shell in between). */
    private Exec ctrExec(String container, String... command) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ctr", "-n", containerd.namespace(), "task", "exec", "--exec-id",
                "x" + UUID.randomUUID().toString().substring(0, 8), container));
        argv.addAll(List.of(command));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Exec(p.exitValue(), out);
    }

    @Test
    void inAContainerStartedBeforeTheAgentEveryShortLivedDropIsDeniedAndReportedAsBlocked() throws Exception {
        // given 50 dropped scripts in the victim, whose only process is its init
        int drops = 50;
        for (int i = 0; i < drops; i++) {
            Path script = Files.writeString(inContainer(victimPid, "/tmp/drop-" + i),
                    "#!/bin/sh\necho ran > /tmp/ran-" + i + "\n");
            executable(script);
        }

        // when each is exec'd directly by the runtime: a short-lived process, gone before any pipeline sees it
        int refused = 0;
        for (int i = 0; i < drops; i++) {
            if (ctrExec(victim, "/tmp/drop-" + i).exitCode() != 0) {
                refused++;
            }
        }

        // then none ran, and each is reported as blocked
        int ran = 0;
        for (int i = 0; i < drops; i++) {
            if (Files.exists(inContainer(victimPid, "/tmp/ran-" + i))) {
                ran++;
            }
        }
        assertThat(ran).as("drops that ran").isZero();
        assertThat(refused).isEqualTo(drops);
        List<String> blocked = awaitAlerts(l -> l.contains("\"alertType\":\"BinaryDriftBlocked\"")
                && l.contains("\"path\":\"/tmp/drop-"), drops, Duration.ofSeconds(20));
        assertThat(blocked).hasSize(drops).allSatisfy(l -> assertThat(l)
                .contains("\"rule\":{\"name\":\"block-victim\"").contains("\"kind\":\"ADDED\""));
    }

    @Test
    void thirtyBigSparseDropsInOneContainerAreAllDeniedWhileAnotherContainersDriftIsAlertedWithinASecond()
            throws Exception {
        // given 30 dropped 255 MiB sparse binaries in a container under a block rule (each takes ~0.6 s to hash)
        int drops = 30;
        for (int i = 0; i < drops; i++) {
            Path big = inContainer(stormyPid, "/tmp/big-" + i);
            Files.copy(BusyboxImage.BUSYBOX, big, StandardCopyOption.REPLACE_EXISTING);
            try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
                f.setLength(BIG);
            }
            executable(big);
        }
        Files.copy(BusyboxImage.BUSYBOX, inContainer(bystanderPid, "/tmp/tool"), StandardCopyOption.REPLACE_EXISTING);
        executable(inContainer(bystanderPid, "/tmp/tool"));

        // (the bystander's first alert waits for its image name from containerd, up to a second: docs/pipeline.md)
        ctrExec(bystander, "/bin/sh", "-c", "mkdir /tmp/warm && cp /tmp/tool /tmp/warm/true && /tmp/warm/true");
        awaitAlerts(l -> l.contains("\"path\":\"/tmp/warm/true\""), 1, Duration.ofSeconds(10));

        // when that container execs them all, one after the other, ...
        StringBuilder loop = new StringBuilder();
        for (int i = 0; i < drops; i++) {
            loop.append("/tmp/big-").append(i).append(" 2>/dev/null; echo big-").append(i).append(" rc=$?; ");
        }
        List<String> victimArgv = List.of("ctr", "-n", containerd.namespace(), "task", "exec", "--exec-id", "storm",
                stormy, "/bin/sh", "-c", loop.toString());
        long t0 = System.nanoTime();
        Process storm = new ProcessBuilder(victimArgv).redirectErrorStream(true).start();
        Thread.sleep(1500); // that container's lane is busy hashing by now
        // ... and meanwhile the bystander runs drift of its own, three times
        List<Double> latencies = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            String path = "/tmp/b-" + round + "/true";
            Path copy = inContainer(bystanderPid, path);
            Exec e = ctrExec(bystander, "/bin/sh", "-c", "mkdir /tmp/b-" + round + " && cp /tmp/tool " + path
                    + " && cat /proc/uptime > /tmp/t-" + round + " && " + path + "; echo rc=$?");
            assertThat(e.output()).as("the bystander's drift runs (its rule blocks mounts only)").contains("rc=0");
            awaitAlerts(l -> l.contains("\"path\":\"" + path + "\""), 1, Duration.ofSeconds(30));
            double alertedAt = uptime(Files.readString(Path.of("/proc/uptime")));
            double execAt = uptime(Files.readString(inContainer(bystanderPid, "/tmp/t-" + round)));
            latencies.add(alertedAt - execAt);
            assertThat(Files.exists(copy)).isTrue();
            Thread.sleep(300);
        }
        String stormOutput = new String(storm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(storm.waitFor(120, TimeUnit.SECONDS)).isTrue();
        long stormMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        // then every big drop was denied, none ran
        Matcher m = RC.matcher(stormOutput);
        int denied = 0;
        int ran = 0;
        while (m.find()) {
            if (m.group(2).equals("126")) {
                denied++;
            } else {
                ran++;
            }
        }
        System.out.printf("big drops: %d denied, %d ran in %d ms; bystander exec-to-alert latencies (s): %s%n",
                denied, ran, stormMs, latencies);
        assertThat(ran).as("big drops that ran: %s", stormOutput).isZero();
        assertThat(denied).isEqualTo(drops);
        // and the bystander's drift was alerted within a second of its exec (/proc/uptime has 10 ms resolution)
        assertThat(latencies).allSatisfy(l -> assertThat(l).isLessThan(1.0));
        // and every denial is reported as blocked: classified when its decision ran, unclassified when it was
        // answered at its deadline before its turn came
        List<String> blocked = awaitAlerts(l -> l.contains("\"alertType\":\"BinaryDriftBlocked\"")
                && l.contains("\"path\":\"/tmp/big-"), drops, Duration.ofSeconds(60));
        System.out.printf("big drops reported blocked: %d ADDED, %d UNRESOLVED%n",
                blocked.stream().filter(l -> l.contains("\"kind\":\"ADDED\"")).count(),
                blocked.stream().filter(l -> l.contains("\"kind\":\"UNRESOLVED\"")).count());
        assertThat(blocked).hasSize(drops);
    }

    private static double uptime(String procUptime) {
        return Double.parseDouble(procUptime.trim().split("\\s+")[0]);
    }

    private List<String> awaitAlerts(java.util.function.Predicate<String> match, int count, Duration within)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        List<String> found = List.of();
        while (System.nanoTime() < deadline) {
            if (Files.exists(alerts)) {
                found = Files.readAllLines(alerts, StandardCharsets.UTF_8).stream().filter(match).toList();
                if (found.size() >= count) {
                    return found;
                }
            }
            Thread.sleep(10);
        }
        return found;
    }
}
