package io.driftagent.agent.source.fanotify.bench;

import io.driftagent.agent.source.fanotify.FanotifyExecGuard;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifySourceConfig;
import io.driftagent.agent.source.fanotify.GuardConfig;
import io.driftagent.agent.source.fanotify.PermissionDecision;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Exec-storm throughput with no agent, with the fanotify source observing (host root + the storm's tmpfs marked),
 * and with the fanotify guard answering every exec on the storm's tmpfs (allow-all decider). Modes alternate within
 * each round so machine noise hits them alike; the medians and their ratios are printed with the lost counts.
 *
 * <pre>
 * java -cp agent/target/classes:agent/target/test-classes:$(cat /tmp/agent-test-cp.txt) \
 *   io.driftagent.agent.source.fanotify.bench.FanotifyExecStormBench [rounds=7] [execsPerProcess=5000] [parallel=2]
 * (rounds 0: only the backlog drain)
 * </pre>
 */
public final class FanotifyExecStormBench {

    enum Mode { NO_AGENT, OBSERVE, BLOCK_ALLOW_ALL }

    private FanotifyExecStormBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int execs = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        int parallel = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Map<Mode, List<Double>> rates = new EnumMap<>(Mode.class);
        long delivered = 0;
        long expected = 0;
        long lost = 0;
        Map<String, Long> guardDefaulted = new java.util.TreeMap<>();
        double drain;
        try (ExecStorm storm = ExecStorm.create(Path.of("/tmp"))) {
            storm.run(parallel, 500); // warm-up
            for (int r = 0; r < rounds; r++) {
                List<Mode> order = new ArrayList<>(List.of(Mode.values()));
                java.util.Collections.rotate(order, r);
                for (Mode m : order) {
                    double rate;
                    switch (m) {
                        case NO_AGENT -> rate = storm.run(parallel, execs);
                        case OBSERVE -> {
                            String target = storm.target.toString();
                            LongAdder seen = new LongAdder();
                            FanotifyExecSource source = new FanotifyExecSource(FanotifySourceConfig.defaults(), Clock.systemUTC());
                            source.start(e -> {
                                if (e.filename().equals(target)) {
                                    seen.increment();
                                }
                                return true;
                            });
                            source.watch(storm.mount);
                            rate = storm.run(parallel, execs);
                            long until = System.nanoTime() + 30_000_000_000L;
                            while (seen.sum() < (long) parallel * execs && System.nanoTime() < until) {
                                Thread.sleep(20);
                            }
                            source.close();
                            delivered += seen.sum();
                            expected += (long) parallel * execs;
                            lost += source.stats().totalLost();
                        }
                        case BLOCK_ALLOW_ALL -> {
                            FanotifyExecGuard guard = new FanotifyExecGuard(GuardConfig.defaults(), req -> PermissionDecision.ALLOW,
                                    Clock.systemUTC());
                            guard.start();
                            guard.guard(storm.mount);
                            rate = storm.run(parallel, execs);
                            guard.close();
                            guard.stats().defaulted().forEach((k, v) -> guardDefaulted.merge(k, v, Long::sum));
                        }
                        default -> throw new IllegalStateException();
                    }
                    rates.computeIfAbsent(m, k -> new ArrayList<>()).add(rate);
                    System.out.printf("round %d %-16s %8.0f execs/s%n", r, m, rate);
                }
            }
            if (rounds == 0) {
                drainRate(storm, 15_000); // JIT warm-up, as the rounds are otherwise
            }
            drain = drainRate(storm, 15_000);
        }
        if (rounds == 0) {
            System.out.printf("reader draining a backlog of 15000 queued exec events: %.0f events/s%n", drain);
            return;
        }
        double base = median(rates.get(Mode.NO_AGENT));
        System.out.printf("%nmedian execs/s over %d rounds of %d x %d execs:%n", rounds, parallel, execs);
        for (Mode m : Mode.values()) {
            double med = median(rates.get(m));
            System.out.printf("  %-16s %8.0f  ratio %.3f  (cost %.1f%%)%n", m, med, med / base, (1 - med / base) * 100);
        }
        System.out.printf("observe: delivered %d of %d storm execs, lost %d; guard answers by default: %s%n",
                delivered, expected, lost, guardDefaulted);
        System.out.printf("reader draining a backlog of 15000 queued exec events: %.0f events/s%n", drain);
    }

    /**
     * Backlog drain: the sink holds the reader while a storm fills the kernel queue (only the storm's tmpfs is
     * marked, so the backlog is the storm's), then the time from release until every storm exec was delivered.
     */
    private static double drainRate(ExecStorm storm, int execs) throws Exception {
        String target = storm.target.toString();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        LongAdder seen = new LongAdder();
        FanotifyExecSource source = new FanotifyExecSource(FanotifySourceConfig.defaults().withWatchHostRoot(false), Clock.systemUTC());
        source.start(e -> {
            try {
                release.await();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            if (e.filename().equals(target)) {
                seen.increment();
            }
            return true;
        });
        try {
            source.watch(storm.mount);
            storm.run(1, execs);
            long t0 = System.nanoTime();
            release.countDown();
            while (seen.sum() < execs && System.nanoTime() - t0 < 60_000_000_000L) {
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

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
