package io.driftagent.agent.storm;

import io.driftagent.agent.source.ebpf.EbpfExecSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The full exec-storm benchmark, outside the test suite. From the {@code agent} directory, after a build:
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     io.driftagent.agent.storm.ExecStormBenchmark [rounds=25] [execs=20000] [workers=CPUs]
 * </pre>
 * The integrator adds fanotify modes to {@link #modes()}.
 */
public final class ExecStormBenchmark {
    private ExecStormBenchmark() {
    }

    static List<StormMode> modes() {
        return List.of(StormMode.noAgent(), new StormMode("ebpf-observe", EbpfExecSource::new));
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 25;
        long execs = args.length > 1 ? Long.parseLong(args[1]) : 20_000L;
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        Path dir = Files.createTempDirectory("drift-storm-");
        try {
            ExecStorm storm = new ExecStorm(StormDriver.compile(dir), execs, workers);
            ExecStorm.Report report = storm.run(modes(), rounds);
            System.out.printf("exec storm: %d rounds x %d execs, %d workers, %d CPUs, load %s%n", rounds, execs,
                    workers, Runtime.getRuntime().availableProcessors(),
                    Files.readString(Path.of("/proc/loadavg")).trim());
            for (ExecStorm.Round r : report.rounds()) {
                System.out.printf("  round %2d %-16s %8.0f execs/s delivered=%d lost=%s%n", r.round(), r.mode(),
                        r.execsPerSecond(), r.delivered(), r.lostByReason());
            }
            System.out.print(report.format());
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
