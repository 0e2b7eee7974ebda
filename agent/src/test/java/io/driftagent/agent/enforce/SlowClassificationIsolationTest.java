package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.ProcContainerAttributor;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.classification.OverlayDriftClassifier;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.fs.NoFollowRootedFiles;
import io.driftagent.agent.image.SharedImageIndexProvider;
import io.driftagent.agent.metadata.containerd.ContainerdMetadataProvider;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.pipeline.TimeOrderedIds;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The guard and the decision path on real containerd containers with a classifier made slow on purpose (2 s for
 * every dropped file of one container, whatever classification costs in this build): one container's slow decisions
 * must neither let its drift run nor delay another container's execs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class SlowClassificationIsolationTest {

    private static final String IMAGE = "docker.io/drift-slow/busybox:e2e";
    private static final Duration SLOW = Duration.ofSeconds(2);
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - {name: block-storm, priority: 1, action: block,
                 resourceScope: [{field: containerName, operator: equals, values: [storm]}]}
              - {name: bystander-mounts, priority: 2, action: block, driftKinds: [MOUNT],
                 resourceScope: [{field: containerName, operator: equals, values: [bystander]}]}
            defaultRule: {action: alert}
            """;

    private final ContainerdHost containerd = new ContainerdHost("drift-slow");
    private final String storm = ContainerdHost.randomContainerId();
    private final String bystander = ContainerdHost.randomContainerId();
    private final List<String> reported = new CopyOnWriteArrayList<>();
    private Path work;
    private int stormPid;
    private int bystanderPid;
    private FanotifyExecGuard guard;
    private ContainerdMetadataProvider metadata;

    @BeforeAll
    void startContainersAndGuardThem() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "containerd and fanotify need root");
        assumeTrue(ContainerdHost.available(), "containerd is not running (scripts/host-setup.sh starts it)");
        assumeTrue(BusyboxImage.available(), "needs busybox-static at /bin/busybox");
        work = Files.createTempDirectory("drift-slow-ctr");
        containerd.importBusybox(work, IMAGE);
        stormPid = containerd.runAsCriContainer(IMAGE, storm, UUID.randomUUID().toString(), "storm-0", "shop", "storm");
        bystanderPid = containerd.runAsCriContainer(IMAGE, bystander, UUID.randomUUID().toString(), "bystander-0",
                "shop", "bystander");

        Clock clock = Clock.systemUTC();
        OverlayDriftClassifier real = new OverlayDriftClassifier(NoFollowRootedFiles.create(),
                SharedImageIndexProvider.fromLayerDirectories(), Path.of("/proc"));
        DriftClassifier slow = (event, container) -> {
            Classification c = real.classify(event, container);
            if (container.id().value().equals(storm) && event.filename().startsWith("/tmp/")) {
                try {
                    Thread.sleep(SLOW.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return c;
        };
        PolicyLoadResult loaded = new PolicyLoader().load("policy.yaml", POLICY.getBytes(StandardCharsets.UTF_8));
        CompiledPolicy policy = loaded.policy().orElseThrow(() -> new AssertionError(loaded.problems().toString()));
        metadata = new ContainerdMetadataProvider(clock);
        BlockingDecider decider = new BlockingDecider(
                ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), clock, real::containerGone),
                slow, metadata, () -> policy,
                new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), clock, new TimeOrderedIds(clock)),
                (event, classification) -> reported.add(event.filename() + " " + classification.kind()));
        guard = new FanotifyExecGuard(GuardConfig.defaults().withDecisionTimeout(Duration.ofMillis(250))
                .withDefaultDecision(PermissionDecision.DENY), clock);
        guard.start(decider);
        guard.guard(Path.of("/proc/" + stormPid + "/root"));
        guard.guard(Path.of("/proc/" + bystanderPid + "/root"));
    }

    @AfterAll
    void stop() {
        if (guard != null) {
            guard.close();
        }
        if (metadata != null) {
            metadata.close();
        }
        if (work != null) {
            containerd.removeAll();
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    private static Path in(int pid, String path) {
        return Path.of("/proc/" + pid + "/root" + path);
    }

    private static String ctrExec(String namespace, String container, String script) throws Exception {
        Process p = new ProcessBuilder("ctr", "-n", namespace, "task", "exec", "--exec-id",
                "x" + UUID.randomUUID().toString().substring(0, 8), container, "/bin/sh", "-c", script)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void thirtySlowDropsInOneContainerAreAllDeniedAndAnotherContainersExecsAreNotDelayed() throws Exception {
        // given 30 dropped binaries in the storm container, each taking 2 s to classify
        int drops = 30;
        for (int i = 0; i < drops; i++) {
            Path drop = in(stormPid, "/tmp/slow-" + i);
            Files.copy(BusyboxImage.BUSYBOX, drop, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(drop, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        StringBuilder loop = new StringBuilder();
        for (int i = 0; i < drops; i++) {
            loop.append("/tmp/slow-").append(i).append(" 2>/dev/null; echo rc=$?; ");
        }

        // when they are exec'd one after the other, and meanwhile the bystander runs drift of its own
        Process stormRun = new ProcessBuilder("ctr", "-n", containerd.namespace(), "task", "exec", "--exec-id", "storm",
                storm, "/bin/sh", "-c", loop.toString()).redirectErrorStream(true).start();
        Thread.sleep(1000);
        String bystanderOut = ctrExec(containerd.namespace(), bystander, "mkdir -p /tmp/b && cp /bin/busybox /tmp/b/true"
                + " && cat /proc/uptime > /tmp/t0 && /tmp/b/true && cat /proc/uptime > /tmp/t1; echo rc=$?");
        String stormOut = new String(stormRun.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(stormRun.waitFor(120, TimeUnit.SECONDS)).isTrue();

        // then every slow drop was denied and none ran
        long denied = stormOut.lines().filter(l -> l.equals("rc=126")).count();
        assertThat(stormOut.lines().filter(l -> l.startsWith("rc="))).as(stormOut).hasSize(drops);
        assertThat(denied).as(stormOut).isEqualTo(drops);
        // and the bystander's drift was decided (allowed: its rule blocks mounts only) without waiting for them
        assertThat(bystanderOut).contains("rc=0");
        double execSeconds = uptime(in(bystanderPid, "/tmp/t1")) - uptime(in(bystanderPid, "/tmp/t0"));
        System.out.printf("slow drops: %d/%d denied; bystander drift exec took %.2f s; %s%n", denied, drops,
                execSeconds, guard.stats());
        assertThat(execSeconds).isLessThan(0.25);
        // and every denial is reported, classified or not
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (reported.stream().filter(r -> r.startsWith("/tmp/slow-")).count() < drops && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(reported.stream().filter(r -> r.startsWith("/tmp/slow-"))).hasSize(drops);
        GuardStats s = guard.stats();
        assertThat(s.defaultedDenied().getOrDefault("timeout", 0L)).isEqualTo(drops);
    }

    private static double uptime(Path file) throws Exception {
        return Double.parseDouble(Files.readString(file).trim().split("\\s+")[0]);
    }
}
