package io.driftagent.agent.storm;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.SourceUnavailableException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the same exec storm under several {@link StormMode}s in alternating rounds (the order rotates each round so
 * machine drift does not favour a mode) and compares each mode's exec throughput with the no-agent baseline of
 * the same round. For each observing mode it checks that every storm exec was delivered or counted lost.
 */
public final class ExecStorm {
    /**
     * Quiet time before each timed storm, every mode alike. Starting and closing a source leaves work behind that is
     * not the source's steady cost: the kernel frees the last round's BPF program, maps and ring through RCU callbacks
     * and workqueues, and the JIT compiles what the start-up ran. Without the pause that work lands in whichever storm
     * comes next (`-Dstorm.settleMillis=0` shows it: a noisier, higher ratio for the eBPF modes).
     */
    private static final long SETTLE_MILLIS = Long.getLong("storm.settleMillis", 500);

    private final StormDriver driver;
    private final long execsPerRound;
    private final int workers;
    private final long settleMillis;

    public ExecStorm(StormDriver driver, long execsPerRound, int workers) {
        this(driver, execsPerRound, workers, SETTLE_MILLIS);
    }

    /** @param settleMillis quiet time before each timed storm (0 where only delivery, not throughput, matters) */
    public ExecStorm(StormDriver driver, long execsPerRound, int workers, long settleMillis) {
        this.driver = driver;
        this.execsPerRound = execsPerRound;
        this.workers = workers;
        this.settleMillis = settleMillis;
    }

    /**
     * One mode's run in one round. {@code delivered} counts the storm's own execs that reached the sink;
     * {@code lost} is the source's total lost count (all processes: an upper bound for the storm's losses).
     * {@code stormCpuNanos} is the CPU the storm's processes used (the kernel programs run in them, so their cost is
     * there); {@code agentCpuNanos} the harness JVM's (the source's reader, with the JVM's compilers and collectors),
     * {@code readerCpuNanos} the reading thread's alone.
     */
    public record Round(String mode, int round, double execsPerSecond, long execs, long delivered, long lost,
            Map<String, Long> lostByReason, long agentCpuNanos, long stormCpuNanos, long readerCpuNanos) {
        public Round {
            lostByReason = Map.copyOf(lostByReason);
        }

        /** CPU of the storm and the agent side together per exec, in nanoseconds. */
        public double cpuNanosPerExec() {
            return (double) (stormCpuNanos + agentCpuNanos) / execs;
        }

        /** Every exec delivered or counted as lost (only meaningful for a mode that sees every exec). */
        public boolean accountedFor() {
            return delivered + lost >= execs;
        }
    }

    /**
     * A mode over all rounds: throughput ratios to the same round's baseline (1.0 = no cost). {@code lowRatio95} and
     * {@code highRatio95} bound the median ratio: a 95 % bootstrap interval over the rounds, which says whether the
     * rounds were enough to resolve the difference that matters. The CPU figures measure the same cost as work
     * rather than as time: the storm's and the agent's CPU per exec over the same round's baseline's
     * ({@code medianCpuRatio} 1.02 = 2 % more CPU per exec), which a machine whose speed moves between rounds
     * disturbs less than the throughput.
     */
    public record Summary(String mode, double medianRatio, double minRatio, double maxRatio, double p25Ratio,
            double p75Ratio, double medianExecsPerSecond, long execs, long delivered, long lost,
            double medianAgentCpuMicrosPerExec, double lowRatio95, double highRatio95,
            double medianStormCpuMicrosPerExec, double medianCpuRatio, double lowCpuRatio95, double highCpuRatio95,
            double medianReaderCpuMicrosPerExec) {

        public double medianOverheadPercent() {
            return (1 - medianRatio) * 100;
        }

        public double medianCpuCostPercent() {
            return (medianCpuRatio - 1) * 100;
        }
    }

    public record Report(List<Round> rounds, List<Summary> summaries) {
        public Report {
            rounds = List.copyOf(rounds);
            summaries = List.copyOf(summaries);
        }

        public Summary summary(String mode) {
            return summaries.stream().filter(s -> s.mode().equals(mode)).findFirst().orElseThrow();
        }

        public String format() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "%-32s %8s %12s %8s %8s %8s %8s %8s %12s %16s %10s %6s %12s %14s %10s %16s %14s%n",
                    "mode", "rounds", "execs/s(med)", "ratio", "min", "p25", "p75", "max", "overhead%",
                    "overhead% 95%CI", "delivered", "lost", "cpu-us/exec", "storm-cpu-us/ex", "cpu-cost%",
                    "cpu-cost% 95%CI", "reader-us/exec"));
            for (Summary s : summaries) {
                long n = rounds.stream().filter(r -> r.mode().equals(s.mode())).count();
                b.append(String.format(Locale.ROOT,
                        "%-32s %8d %12.0f %8.4f %8.4f %8.4f %8.4f %8.4f %12.2f %16s %10d %6d %12.2f %14.2f %10.2f %16s %14.2f%n",
                        s.mode(), n, s.medianExecsPerSecond(), s.medianRatio(), s.minRatio(), s.p25Ratio(),
                        s.p75Ratio(), s.maxRatio(), s.medianOverheadPercent(),
                        String.format(Locale.ROOT, "%.2f..%.2f", (1 - s.highRatio95()) * 100,
                                (1 - s.lowRatio95()) * 100),
                        s.delivered(), s.lost(), s.medianAgentCpuMicrosPerExec(), s.medianStormCpuMicrosPerExec(),
                        s.medianCpuCostPercent(), String.format(Locale.ROOT, "%.2f..%.2f",
                                (s.lowCpuRatio95() - 1) * 100, (s.highCpuRatio95() - 1) * 100),
                        s.medianReaderCpuMicrosPerExec()));
            }
            return b.toString();
        }
    }

    /** Runs {@code rounds} rounds of every mode; {@code modes} must contain exactly one baseline. */
    public Report run(List<StormMode> modes, int rounds) throws IOException, InterruptedException,
            SourceUnavailableException {
        StormMode baseline = modes.stream().filter(StormMode::isBaseline).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no baseline mode"));
        List<Round> all = new ArrayList<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Map<String, List<Double>> cpuRatios = new LinkedHashMap<>();
        modes.forEach(m -> ratios.put(m.name(), new ArrayList<>()));
        modes.forEach(m -> cpuRatios.put(m.name(), new ArrayList<>()));
        for (int r = 0; r < rounds; r++) {
            Map<String, Round> thisRound = new LinkedHashMap<>();
            for (int i = 0; i < modes.size(); i++) {
                StormMode mode = modes.get((i + r) % modes.size());
                Round result = runOnce(mode, r);
                thisRound.put(mode.name(), result);
                all.add(result);
            }
            double base = thisRound.get(baseline.name()).execsPerSecond();
            thisRound.forEach((name, round) -> ratios.get(name).add(round.execsPerSecond() / base));
            double baseCpu = thisRound.get(baseline.name()).cpuNanosPerExec();
            thisRound.forEach((name, round) -> cpuRatios.get(name).add(round.cpuNanosPerExec() / baseCpu));
        }
        List<Summary> summaries = new ArrayList<>();
        for (StormMode mode : modes) {
            List<Double> rs = new ArrayList<>(ratios.get(mode.name()));
            rs.sort(null);
            List<Double> tput = all.stream().filter(x -> x.mode().equals(mode.name()))
                    .map(Round::execsPerSecond).sorted().toList();
            long execs = all.stream().filter(x -> x.mode().equals(mode.name())).mapToLong(Round::execs).sum();
            long delivered = all.stream().filter(x -> x.mode().equals(mode.name())).mapToLong(Round::delivered).sum();
            long lost = all.stream().filter(x -> x.mode().equals(mode.name())).mapToLong(Round::lost).sum();
            List<Double> cpu = all.stream().filter(x -> x.mode().equals(mode.name()))
                    .map(x -> x.agentCpuNanos() / 1000.0 / x.execs()).sorted().toList();
            List<Double> stormCpu = all.stream().filter(x -> x.mode().equals(mode.name()))
                    .map(x -> x.stormCpuNanos() / 1000.0 / x.execs()).sorted().toList();
            List<Double> readerCpu = all.stream().filter(x -> x.mode().equals(mode.name()))
                    .map(x -> x.readerCpuNanos() / 1000.0 / x.execs()).sorted().toList();
            List<Double> crs = new ArrayList<>(cpuRatios.get(mode.name()));
            crs.sort(null);
            double[] interval = medianInterval95(rs);
            double[] cpuInterval = medianInterval95(crs);
            summaries.add(new Summary(mode.name(), quantile(rs, 0.5), rs.get(0), rs.get(rs.size() - 1),
                    quantile(rs, 0.25), quantile(rs, 0.75), quantile(tput, 0.5), execs, delivered, lost,
                    quantile(cpu, 0.5), interval[0], interval[1], quantile(stormCpu, 0.5), quantile(crs, 0.5),
                    cpuInterval[0], cpuInterval[1], quantile(readerCpu, 0.5)));
        }
        return new Report(all, summaries);
    }

    /** One storm under one mode: start the source (outside the timed part), storm, wait for delivery, close. */
    public Round runOnce(StormMode mode, int round) throws IOException, InterruptedException,
            SourceUnavailableException {
        StormDriver driver = mode.driver().orElse(this.driver);
        if (mode.isBaseline()) {
            Thread.sleep(settleMillis);
            long cpu0 = processCpuNanos();
            StormDriver.Result r = driver.storm(execsPerRound, workers);
            return new Round(mode.name(), round, r.execsPerSecond(), r.execs(), 0, 0, Map.of(),
                    processCpuNanos() - cpu0, r.cpuNanos(), 0);
        }
        // by file identity: a source may name the file as the exec'd path or as the path inside the overlay
        ExecEvent.FileId stormBinary = driver.execFileId();
        AtomicLong stormEvents = new AtomicLong();
        ExecEventSink sink = (ExecEvent e) -> {
            if (e.file().equals(stormBinary)) {
                stormEvents.incrementAndGet();
            }
            return true;
        };
        ExecSource source = mode.source().orElseThrow().get();
        try {
            source.start(sink);
            Thread.sleep(settleMillis);
            long cpu0 = processCpuNanos();
            long reader0 = ReaderThreadCpu.nanos();
            StormDriver.Result r = driver.storm(execsPerRound, workers);
            SourceStats stats = mode.seesEveryExec() ? awaitAccounted(source, stormEvents, r.execs()) : source.stats();
            long cpu = processCpuNanos() - cpu0;
            long reader = ReaderThreadCpu.nanos() - reader0;
            return new Round(mode.name(), round, r.execsPerSecond(), r.execs(), stormEvents.get(), stats.totalLost(),
                    stats.lost(), cpu, r.cpuNanos(), reader);
        } finally {
            source.close();
        }
    }

    private static SourceStats awaitAccounted(ExecSource source, AtomicLong delivered, long execs)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        SourceStats stats = source.stats();
        while (delivered.get() + stats.totalLost() < execs && System.nanoTime() < deadline) {
            Thread.sleep(20);
            stats = source.stats();
        }
        return stats;
    }

    /**
     * CPU time of this JVM (the agent side: the source's threads, plus the harness waiting), not of the storm's
     * processes. The baseline's value is what the idle harness itself costs per exec.
     */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The 2.5 % and 97.5 % points of the median of {@code ratios} over 2,000 resamples (a fixed seed: repeatable). */
    static double[] medianInterval95(List<Double> ratios) {
        java.util.Random random = new java.util.Random(20261127L);
        double[] medians = new double[2000];
        List<Double> sample = new ArrayList<>(ratios.size());
        for (int i = 0; i < medians.length; i++) {
            sample.clear();
            for (int j = 0; j < ratios.size(); j++) {
                sample.add(ratios.get(random.nextInt(ratios.size())));
            }
            sample.sort(null);
            medians[i] = quantile(sample, 0.5);
        }
        java.util.Arrays.sort(medians);
        return new double[] {medians[50], medians[1949]};
    }

    static double quantile(List<Double> sorted, double q) {
        double pos = q * (sorted.size() - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted.get(lo) + (sorted.get(hi) - sorted.get(lo)) * (pos - lo);
    }
}
