package io.driftagent.agent.selftest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.ProcContainerAttributor;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ebpf.EbpfExecSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The self-test where no overlay sandbox can be had (here: no busybox to build its layer from, as on a node whose
 * sandbox mount is denied): it falls back to an exec canary in the agent's own writable directory, on real kernel
 * events from the eBPF source through the real attribution, and says why in its result and metrics.
 */
@Tag(TestTiers.KERNEL)
class SelfTestFallbackTest {

    private static final Path NO_BUSYBOX = Path.of("/nonexistent/busybox");

    @TempDir
    Path canaryDir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final SandboxContainers sandboxes = new SandboxContainers();
    private EbpfExecSource source;
    private Thread attribution;

    @AfterEach
    void stop() throws InterruptedException {
        if (source != null) {
            source.close();
        }
        if (attribution != null) {
            attribution.interrupt();
            attribution.join(5000);
        }
    }

    @Test
    void withoutASandboxTheExecCanarySeenByTheSourcePassesAndSaysWhy() throws Exception {
        // given: the eBPF source feeding the real attribution, wrapped as the agent wraps it
        startSourceAndAttribution();
        SelfTest selfTest = new SelfTest(Clock.systemUTC(), sandboxes, NO_BUSYBOX, Duration.ofSeconds(5), canaryDir, registry);

        // when
        SelfTest.Result result = selfTest.run();

        // then
        assertThat(result.passed()).as(result.detail()).isTrue();
        assertThat(result.mode()).isEqualTo(SelfTest.Mode.EXEC);
        assertThat(result.reason()).isEqualTo("no_busybox");
        assertThat(result.detail()).contains("overlay sandbox unavailable (no static busybox at /nonexistent/busybox")
                .contains("seen by the exec source").contains("not in a container");
        assertThat(selfTest.readiness().ready()).isTrue();
        assertThat(registry.get("drift.selftest").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("drift.selftest.runs").tags("result", "pass", "mode", "exec", "reason", "no_busybox")
                .counter().count()).isEqualTo(1.0);
        try (var left = Files.list(canaryDir)) {
            assertThat(left).as("the canary is removed").isEmpty();
        }
    }

    @Test
    void anExecCanaryNoSourceSeesFailsAndKeepsThePodUnready() {
        // given: nothing delivers execs (a source that stopped delivering on this kernel)
        SelfTest selfTest = new SelfTest(Clock.systemUTC(), sandboxes, NO_BUSYBOX, Duration.ofMillis(500), canaryDir, registry);

        SelfTest.Result result = selfTest.run();

        assertThat(result.passed()).isFalse();
        assertThat(result.reason()).isEqualTo("exec_canary_not_seen");
        assertThat(selfTest.readiness().ready()).isFalse();
        assertThat(selfTest.readiness().reason()).startsWith("exec_canary_not_seen: ");
        assertThat(registry.get("drift.selftest").gauge().value()).isZero();
        assertThat(registry.get("drift.selftest.runs").tags("result", "fail", "mode", "exec", "reason", "exec_canary_not_seen")
                .counter().count()).isEqualTo(1.0);
    }

    @Test
    void aCanaryNotSeenWhileTheAgentDroppedExecsNamesThatAsTheLikelyCause() throws Exception {
        // given: the canary's exec is not delivered while the pipeline drops execs (its queue full under a storm)
        Counter dropped = Counter.builder("drift.pipeline.dropped").tag("stage", "attribute")
                .tag("reason", "queue_full").register(registry);
        SelfTest selfTest = new SelfTest(Clock.systemUTC(), sandboxes, NO_BUSYBOX, Duration.ofMillis(500), canaryDir,
                registry);
        Thread storm = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                dropped.increment();
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "test-drops");
        storm.start();
        SelfTest.Result result;
        try {
            result = selfTest.run();
        } finally {
            storm.interrupt();
            storm.join(5000);
        }

        // then the failure says execs were dropped meanwhile, not that the source does not deliver
        assertThat(result.passed()).isFalse();
        assertThat(result.reason()).isEqualTo("exec_canary_not_seen");
        assertThat(result.detail()).as(result.detail()).containsPattern(
                "not seen by the exec source within PT0.5S; meanwhile [0-9]+ execs were dropped or lost on their way"
                        + " through the agent");
    }

    @Test
    void withANoexecCanaryDirectoryTheBinaryItselfIsExecdInPlaceAndTheResultSaysSo() throws Exception {
        assertThat(HostCommands.isRoot()).as("needs root to mount a noexec tmpfs").isTrue();
        Path noexec = Files.createDirectories(canaryDir.resolve("noexec"));
        HostCommands.run("mount", "-t", "tmpfs", "-o", "noexec,size=4m", "tmpfs", noexec.toString());
        try {
            startSourceAndAttribution();
            SelfTest selfTest = new SelfTest(Clock.systemUTC(), sandboxes, NO_BUSYBOX, Duration.ofSeconds(5), noexec, registry);

            SelfTest.Result result = selfTest.run();

            assertThat(result.passed()).as(result.detail()).isTrue();
            assertThat(result.mode()).isEqualTo(SelfTest.Mode.EXEC_IMAGE);
            assertThat(result.detail()).contains("cannot run (a noexec temp directory?)")
                    .contains("exec'd /bin/sleep instead").contains("seen by the exec source");
            assertThat(registry.get("drift.selftest.runs").tags("result", "pass", "mode", "exec_image", "reason", "no_busybox")
                    .counter().count()).isEqualTo(1.0);
        } finally {
            HostCommands.quietly("umount", noexec.toString());
        }
    }

    @Test
    void aCanaryTheSourceDeliversLateWhileTheNodeIsBusyIsTriedAgainUntilSeenAndThePodBecomesReady() throws Exception {
        // given: for the first 6 s every exec reaches attribution 1.5 s after the source read it (a reader behind
        // another job's exec storm on a loaded node), three times the canary's wait; then at once again
        long busyUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        startSourceAndAttribution(busyUntil, TimeUnit.MILLISECONDS.toNanos(1500));
        SelfTest selfTest = new SelfTest(Clock.systemUTC(), sandboxes, NO_BUSYBOX, Duration.ofMillis(500), canaryDir,
                registry);
        SelfTestService service = new SelfTestService(selfTest, () -> true, Duration.ofMinutes(10));

        // when the service runs the self-test as the agent does
        service.start();
        try {
            // then the first runs fail (not seen within the wait), and a later one, once the node is idle, passes
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
            while (!selfTest.readiness().ready() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(selfTest.readiness().ready()).as("Ready once the source caught up; last run: %s",
                    selfTest.lastResult()).isTrue();
            assertThat(registry.get("drift.selftest.runs").tags("result", "fail", "mode", "exec", "reason",
                    "exec_canary_not_seen").counter().count()).as("runs while the source was behind")
                    .isGreaterThanOrEqualTo(1.0);
        } finally {
            service.close();
        }
    }

    private void startSourceAndAttribution() throws Exception {
        startSourceAndAttribution(0L, 0L);
    }

    /** Events the source read before {@code lateUntil} (System.nanoTime) reach attribution {@code lateNanos} late. */
    private void startSourceAndAttribution(long lateUntil, long lateNanos) throws Exception {
        assertThat(HostCommands.isRoot()).as("needs root to load the BPF program").isTrue();
        ContainerAttributor attributor = sandboxes.attributorOver(
                ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), Clock.systemUTC(), c -> { }));
        BlockingQueue<Arrival> queue = new LinkedBlockingQueue<>(100_000);
        source = new EbpfExecSource();
        source.start(event -> queue.offer(new Arrival(event, System.nanoTime())));
        attribution = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Arrival arrival = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (arrival == null) {
                        continue;
                    }
                    long due = arrival.readNanos() + lateNanos;
                    if (arrival.readNanos() < lateUntil && due > System.nanoTime()) {
                        TimeUnit.NANOSECONDS.sleep(due - System.nanoTime());
                    }
                    attributor.attribute(arrival.event());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "test-attribution");
        attribution.start();
    }

    private record Arrival(ExecEvent event, long readNanos) {
    }
}
