package io.driftagent.agent.source.fanotify.bench;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifySourceConfig;
import io.driftagent.agent.storm.ExecStorm;
import io.driftagent.agent.storm.FanotifyStormModes;
import io.driftagent.agent.storm.StormDriver;
import io.driftagent.agent.storm.StormFilesystem;
import io.driftagent.agent.storm.StormMode;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * The fanotify side of the shared exec storm ({@link ExecStorm} on a {@link StormFilesystem}): throughput with no
 * agent, with the fanotify source observing and with the guard allowing every exec (the modes of
 * {@link FanotifyStormModes}, alternating within each round), then the rate at which the source's reader drains a
 * backlog of queued exec events. From the {@code agent} directory, after a build:
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(cat target/test-classpath.txt) \
 *   io.driftagent.agent.source.fanotify.bench.FanotifyExecStormBench [rounds=7] [execsPerWorker=5000] [workers=2]
 * (rounds 0: only the backlog drain)
 * </pre>
 */
public final class FanotifyExecStormBench {

    private static final int DRAIN_EXECS = 15_000;

    private FanotifyExecStormBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        long execsPerWorker = args.length > 1 ? Long.parseLong(args[1]) : 5000;
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        String noStorm = StormDriver.unavailableReason();
        if (!noStorm.isEmpty()) {
            System.err.println("cannot run the exec storm: " + noStorm);
            System.exit(2);
        }
        double drain;
        try (StormFilesystem fs = StormFilesystem.mount(Path.of(System.getProperty("java.io.tmpdir")))) {
            if (rounds > 0) {
                fs.driver().storm(500, workers); // warm-up
                List<StormMode> modes = List.of(StormMode.noAgent(), FanotifyStormModes.observe(fs.dir()),
                        FanotifyStormModes.blockAllowAll(fs.dir()));
                ExecStorm.Report report = new ExecStorm(fs.driver(), execsPerWorker * workers, workers).run(modes, rounds);
                System.out.printf("exec storm: %d rounds x %d execs, %d workers%n%s", rounds, execsPerWorker * workers,
                        workers, report.format());
            } else {
                drainRate(fs); // JIT warm-up, as the rounds are otherwise
            }
            drain = drainRate(fs);
        }
        System.out.printf("reader draining a backlog of %d queued exec events: %.0f events/s%n", DRAIN_EXECS, drain);
    }

    /**
     * Backlog drain: the sink holds the reader while a storm fills the kernel queue (only the storm's filesystem is
     * marked, so the backlog is the storm's), then the time from release until every storm exec was delivered.
     */
    private static double drainRate(StormFilesystem fs) throws Exception {
        ExecEvent.FileId stormBinary = fs.driver().execFileId();
        CountDownLatch release = new CountDownLatch(1);
        LongAdder seen = new LongAdder();
        FanotifyExecSource source = new FanotifyExecSource(FanotifySourceConfig.defaults().withWatchHostRoot(false),
                Clock.systemUTC());
        source.start(e -> {
            try {
                release.await();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            if (e.file().equals(stormBinary)) {
                seen.increment();
            }
            return true;
        });
        try {
            source.watch(fs.dir());
            fs.driver().storm(DRAIN_EXECS, 1);
            long t0 = System.nanoTime();
            release.countDown();
            while (seen.sum() < DRAIN_EXECS && System.nanoTime() - t0 < 60_000_000_000L) {
                Thread.sleep(1);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            if (source.stats().totalLost() > 0) {
                System.out.printf("drain: lost %s (kernel queue too small for the backlog)%n", source.stats().lost());
            }
            return seen.sum() / secs;
        } finally {
            source.close();
        }
    }
}
