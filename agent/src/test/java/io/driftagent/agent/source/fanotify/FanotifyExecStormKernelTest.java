package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.storm.ExecStorm;
import io.driftagent.agent.storm.FanotifyStormModes;
import io.driftagent.agent.storm.StormDriver;
import io.driftagent.agent.storm.StormFilesystem;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load: a storm of 20,000 execs is fully delivered and nothing is lost at that rate. The storm harness's own test
 * ({@code ExecStormKernelTest}) checks the same among all sources but needs kernel BTF for eBPF; this one runs
 * wherever fanotify does, the kernels it is the fallback for.
 */
@Tag(TestTiers.KERNEL)
class FanotifyExecStormKernelTest {

    private static final long EXECS = 20_000;
    private static final int WORKERS = 2;

    @TempDir
    Path dir;

    @Test
    void everyExecOfA20000ExecStormIsDeliveredAndNoneIsLost() throws Exception {
        KernelTestSupport.assumeRootWithKernelTools();
        String noStorm = StormDriver.unavailableReason();
        assumeTrue(noStorm.isEmpty(), () -> "exec storm skipped: " + noStorm);
        try (StormFilesystem fs = StormFilesystem.mount(dir)) {
            ExecStorm storm = new ExecStorm(fs.driver(), EXECS, WORKERS);

            ExecStorm.Round round = storm.runOnce(FanotifyStormModes.observe(fs.dir()), 0);

            System.out.printf("exec storm: %d execs at %.0f execs/s, delivered %d, lost %s%n", round.execs(),
                    round.execsPerSecond(), round.delivered(), round.lostByReason());
            assertThat(round.execs()).isEqualTo(EXECS);
            assertThat(round.lost()).isZero();
            assertThat(round.delivered()).isEqualTo(EXECS);
        }
    }
}
