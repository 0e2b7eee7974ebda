package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.fanotify.bench.ExecStorm;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** Load: a storm of 20,000 execs is fully delivered (or counted as lost) and nothing is lost at that rate. */
class FanotifyExecStormKernelTest {

    private static final int PARALLEL = 2;
    private static final int EXECS_PER_PROCESS = 10_000;

    @Test
    void everyExecOfA20000ExecStormIsDeliveredAndNoneIsLost() throws Exception {
        KernelTestSupport.assumeRootWithKernelTools();
        try (ExecStorm storm = ExecStorm.create(Path.of("/tmp"))) {
            String target = storm.target.toString();
            LongAdder stormExecs = new LongAdder();
            FanotifyExecSource source = new FanotifyExecSource(FanotifySourceConfig.defaults(), Clock.systemUTC());
            source.start(e -> {
                if (e.filename().equals(target)) {
                    stormExecs.increment();
                }
                return true;
            });
            try {
                source.watch(storm.mount);

                double rate = storm.run(PARALLEL, EXECS_PER_PROCESS);

                long deadline = System.nanoTime() + 20_000_000_000L;
                while (stormExecs.sum() < PARALLEL * EXECS_PER_PROCESS && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                SourceStats stats = source.stats();
                System.out.printf("exec storm: %d execs at %.0f execs/s, delivered %d, lost %s%n",
                        PARALLEL * EXECS_PER_PROCESS, rate, stormExecs.sum(), stats.lost());
                assertThat(stormExecs.sum() + stats.totalLost()).isGreaterThanOrEqualTo(PARALLEL * EXECS_PER_PROCESS);
                assertThat(stats.totalLost()).isZero();
                assertThat(stormExecs.sum()).isEqualTo(PARALLEL * EXECS_PER_PROCESS);
            } finally {
                source.close();
            }
        }
    }
}
