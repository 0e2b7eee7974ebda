package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.storm.StormDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java reader's drain rate: the ring buffer is filled by an exec storm while nobody reads, then the reader
 * (decode + ExecEvent + sink, as in production) drains the backlog and is timed. Target: >= 200,000 events/s.
 * Sized by {@code -Ddrain.execs=N} (default 30,000).
 */
@Tag(TestTiers.KERNEL)
class ExecRingDrainKernelTest {
    private static final long EXECS = Long.getLong("drain.execs", 30_000L);
    private static final int RING_BYTES = 32 * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void readerDrainsABacklogOfExecRecordsFasterThanTheKernelCanExec() throws Exception {
        Optional<String> unmet = EbpfPrerequisites.ofThisHost().unmetReason();
        assumeTrue(unmet.isEmpty(), () -> "eBPF kernel test skipped: " + unmet.orElse(""));
        String noStorm = StormDriver.unavailableReason();
        assumeTrue(noStorm.isEmpty(), () -> "drain test skipped: " + noStorm);
        StormDriver driver = StormDriver.compile(dir);
        String stormPath = driver.execPath();
        long[] stormEvents = new long[1];
        ExecEventSink sink = (ExecEvent e) -> {
            if (e.filename().equals(stormPath)) {
                stormEvents[0]++;
            }
            return true;
        };
        LibbpfBindings bindings = LibbpfBindings.get();

        try (BpfExecProgram program = BpfExecProgram.load(bindings, EbpfPrerequisites.readObject(),
                ProgramChoice.TP_BTF, RING_BYTES);
                ExecRingReader reader = ExecRingReader.open(bindings, program.ringBufferFd(), RING_BYTES, sink)) {
            // warm up the decode path (JIT) on a small backlog
            driver.storm(2_000, 2);
            drain(reader);
            stormEvents[0] = 0;

            // given a backlog written while the reader is paused
            StormDriver.Result storm = driver.storm(EXECS, 2);
            long[] counters = program.counters();
            assertThat(counters[ExecRecordLayout.CTR_RINGBUF_FULL]).as("ring buffer sized for the backlog").isZero();

            // when
            long delivered0 = reader.delivered();
            long t0 = System.nanoTime();
            drain(reader);
            long nanos = System.nanoTime() - t0;
            long drained = reader.delivered() - delivered0;

            // then
            double perSecond = drained * 1e9 / nanos;
            String line = String.format("reader drain: %d records in %.1f ms = %.0f events/s (storm made %.0f execs/s)",
                    drained, nanos / 1e6, perSecond, storm.execsPerSecond());
            System.out.println(line);
            Files.writeString(Path.of("target/drain-report.txt"), line + System.lineSeparator());
            assertThat(stormEvents[0]).isEqualTo(EXECS);
            assertThat(reader.queueFull() + reader.malformed() + reader.sinkFailed()).isZero();
            // the target is 200,000/s; the assertion keeps a margin for a loaded shared machine
            assertThat(perSecond).isGreaterThan(100_000);
        }
    }

    private static void drain(ExecRingReader reader) {
        while (reader.consume() > 0) {
            // consume returns how many it handled; 0 when the ring is empty
        }
    }
}
