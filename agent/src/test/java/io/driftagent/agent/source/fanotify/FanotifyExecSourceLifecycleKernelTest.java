package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.fixture.OverlayContainer;
import io.driftagent.agent.storm.StormDriver;
import io.driftagent.agent.storm.StormFilesystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start/stop hygiene and queue overflow handling of FanotifyExecSource on the real kernel. */
@Tag(TestTiers.KERNEL)
class FanotifyExecSourceLifecycleKernelTest {

    private static final Path MAX_QUEUED = Path.of("/proc/sys/fs/fanotify/max_queued_events");

    @TempDir
    Path dir;

    /** The storm binaries on their own overlay, so only that filesystem needs a mark. */
    private StormFilesystem stormFilesystem() throws Exception {
        KernelTestSupport.assumeRootWithKernelTools();
        String noStorm = StormDriver.unavailableReason();
        Assumptions.assumeTrue(noStorm.isEmpty(), () -> "exec storm skipped: " + noStorm);
        return StormFilesystem.mount(dir);
    }

    @Test
    void closeRemovesMarksClosesEveryFdAndStopsTheReader() throws Exception {
        try (StormFilesystem storm = stormFilesystem()) {
            ExecEvent.FileId stormBinary = storm.driver().execFileId();
            List<String> relatedBefore = KernelTestSupport.fanotifyRelatedFds(storm.dir());
            int fdsBefore = KernelTestSupport.openFdCount();
            ExecEventRecorder events = new ExecEventRecorder();
            FanotifyExecSource source = new FanotifyExecSource(FanotifySourceConfig.defaults(), Clock.systemUTC());
            source.start(events);
            source.watch(storm.dir());
            storm.driver().storm(200, 1);
            assertThat(events.await(e -> e.file().equals(stormBinary), 5000)).isPresent();

            source.close();

            assertThat(source.watched()).isEmpty();
            assertThat(KernelTestSupport.fanotifyRelatedFds(storm.dir())).isEqualTo(relatedBefore);
            assertThat(KernelTestSupport.openFdCount()).isLessThanOrEqualTo(fdsBefore);
            assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                    .doesNotContain("fanotify-exec-reader");
            int seen = events.events.size();
            storm.driver().storm(50, 1);
            Thread.sleep(200);
            assertThat(events.events).as("nothing after close").hasSize(seen);
        }
    }

    /**
     * The kernel queue limit is read at fanotify_init, so it is lowered only around start() and restored at once
     * (the machine is shared).
     */
    @Test
    void queueOverflowIsCountedAndFollowedByARescanThatFindsProcessesStartedSince() throws Exception {
        try (StormFilesystem storm = stormFilesystem()) {
            Path sleeper = storm.dir().resolve("sleeper");
            Path hello = KernelTestSupport.compileStatic(storm.dir(), "sleeper", FanotifyExecSourceKernelTest.HELLO_C);
            assertThat(hello).isEqualTo(sleeper);
            CountDownLatch release = new CountDownLatch(1);
            ExecEventRecorder events = new ExecEventRecorder();
            FanotifySourceConfig cfg = new FanotifySourceConfig(false, Duration.ofMillis(10), 64 * 1024, false, Path.of("/proc"), null, Duration.ofMillis(5));
            FanotifyExecSource source = new FanotifyExecSource(cfg, Clock.systemUTC());
            // Files.readString sees one byte of a /proc/sys file; readAllLines reads it whole
            String saved = Files.readAllLines(MAX_QUEUED).get(0).trim();
            assertThat(Long.parseLong(saved)).as("the machine's queue limit").isGreaterThan(64);
            try {
                Files.write(MAX_QUEUED, "64\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                source.start(e -> {
                    try {
                        release.await();
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                    return events.offer(e);
                });
            } finally {
                Files.write(MAX_QUEUED, (saved + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                assertThat(Files.readAllLines(MAX_QUEUED).get(0).trim()).isEqualTo(saved);
            }
            Process longLived = null;
            try {
                source.watch(storm.dir());
                storm.driver().storm(500, 1);
                longLived = new ProcessBuilder(sleeper.toString(), "5000").start();
                Thread.sleep(200);

                release.countDown();

                int pid = (int) longLived.pid();
                ExecEvent rescanned = events.await(e -> e.pid() == pid, 5000)
                        .orElseThrow(() -> new AssertionError("the rescan did not report the process started during the overflow"));
                // named by its path inside the storm's overlay, as a container's file is
                assertThat(rescanned.filename()).endsWith("/sleeper");
                assertThat(rescanned.file()).isEqualTo(OverlayContainer.fileId(sleeper));
                assertThat(rescanned.startTimeNs()).isPositive();
                assertThat(source.stats().lost()).containsKey("fanotify_overflow");
                assertThat(source.rescanned()).isGreaterThanOrEqualTo(1);
            } finally {
                if (longLived != null) {
                    longLived.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
                release.countDown();
                source.close();
            }
        }
    }
}
