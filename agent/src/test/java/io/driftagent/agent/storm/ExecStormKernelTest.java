package io.driftagent.agent.storm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exec storm with each source observing (eBPF; fanotify) and with the fanotify guard blocking on the storm's own
 * overlay: deciding every exec (allowing everything), and remembering the allowance of the image binary as the agent does. By default one round of 20,000 execs (stays within the default
 * suite's time budget); the benchmark is the same test with more rounds:
 * {@code mvn -o -pl agent -am verify -Dtest=ExecStormKernelTest -Dstorm.rounds=15 -Dstorm.execs=20000
 * -Dsurefire.failIfNoSpecifiedTests=false} (report in {@code agent/target/storm-report.txt}).
 */
@Tag(TestTiers.KERNEL)
class ExecStormKernelTest {
    private static final int ROUNDS = Integer.getInteger("storm.rounds", 1);
    private static final long EXECS = Long.getLong("storm.execs", 20_000L);
    private static final String GUARD_MODES = "fanotify-block";
    private static final int WORKERS = Integer.getInteger("storm.workers", Runtime.getRuntime().availableProcessors());

    @TempDir
    Path dir;

    @Test
    void everyStormExecIsDeliveredAndNoneIsLost() throws Exception {
        // given
        String noStorm = StormDriver.unavailableReason();
        assumeTrue(noStorm.isEmpty(), () -> "exec storm skipped: " + noStorm);
        String noRoot = "root".equals(System.getProperty("user.name")) && Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))
                ? "" : "needs root and kernel BTF";
        assumeTrue(noRoot.isEmpty(), () -> "exec storm skipped: " + noRoot);
        ExecStorm.Report report;
        List<StormMode> modes;
        try (StormFilesystem fs = StormFilesystem.mount(dir)) {
            // delivery and loss are checked here, not throughput: no quiet time between storms
            ExecStorm storm = new ExecStorm(fs.driver(), EXECS, WORKERS, 0);
            modes = ExecStormBenchmark.modes(fs).stream()
                    .filter(m -> !m.name().equals(ExecStormBenchmark.KEEPING_MODE)).toList();

            // when
            report = storm.run(modes, ROUNDS);
        }

        // then
        String text = String.format("exec storm: %d rounds x %d execs, %d workers, %d CPUs%n%s", ROUNDS, EXECS, WORKERS,
                Runtime.getRuntime().availableProcessors(), report.format());
        System.out.println(text);
        Files.writeString(Path.of("target/storm-report.txt"), text);
        for (ExecStorm.Round round : report.rounds()) {
            assertThat(round.execs()).as("storm execs in %s", round).isEqualTo(EXECS);
            StormMode mode = modes.stream().filter(m -> m.name().equals(round.mode())).findFirst().orElseThrow();
            if (mode.isBaseline()) {
                continue;
            }
            if (round.mode().startsWith(GUARD_MODES)) {
                // a guard whose decision lanes are full answers at once with its default and counts why (the fail-open
                // of docs/exec-capture-fanotify.md): a rare scheduling stall on 2 cores flat out is allowed, counted
                assertThat(round.lostByReason().entrySet().stream().filter(e -> e.getValue() > 0)
                        .map(java.util.Map.Entry::getKey).toList()).as("why a guard answered by default in %s", round)
                        .isSubsetOf("overloaded", "timeout");
                assertThat(round.lost()).as("defaulted answers in %s", round).isLessThanOrEqualTo(EXECS / 1000);
            } else {
                assertThat(round.lost()).as("lost in %s", round).isZero();
            }
            if (mode.seesEveryExec()) {
                assertThat(round.accountedFor()).as("every exec delivered or counted lost: %s", round).isTrue();
                assertThat(round.delivered() + round.lost()).as("delivered or defaulted in %s", round).isEqualTo(EXECS);
            } else {
                // the first execs are decided (a few may race the mark), then the kernel remembers the allowance
                assertThat(round.delivered()).as("decisions in %s", round).isBetween(1L, 16L);
            }
        }
    }
}
