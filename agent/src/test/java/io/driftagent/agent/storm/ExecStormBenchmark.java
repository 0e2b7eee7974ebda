package io.driftagent.agent.storm;

import io.driftagent.agent.provenance.WriteOrigins;
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
 * The storm binaries live in the image layer of an overlay the benchmark mounts on a tmpfs (the blocking modes guard
 * it), never on the host root.
 */
public final class ExecStormBenchmark {
    private ExecStormBenchmark() {
    }

    /**
     * Every mode, in the order of the first round. All storm the image binary of the storm's overlay, except
     * {@code ebpf-observe-dropped}, which storms a copy dropped into its upper layer (ADDED drift: execs the reader
     * is rung for), against the same image-binary baseline.
     */
    static final String KEEPING_MODE = "ebpf-observe-agent";

    static List<StormMode> modes(StormFilesystem fs) throws java.io.IOException {
        Path stormFs = fs.dir();
        StormMode ebpf = new StormMode("ebpf-observe", EbpfExecSource::new);
        // the observer as the agent runs it by default: write tracking's programs attached and its records read,
        // every exec recorded into the process tree
        StormMode provenance = new StormMode("ebpf-observe-provenance", () -> new ObserverWithLineage(
                new EbpfExecSource(EbpfExecSource.Config.defaults(), WriteOrigins.withDefaults())));
        // the same with the agent's image-exec keeping (the default since the kernel keeps known image execs): the
        // storm's leaf execs stay in the kernel once the first one taught its root; excluded from ExecStormKernelTest,
        // whose accounting wants every exec delivered (ImageExecKeepingKernelTest tests keeping)
        StormMode keeping = new StormMode(KEEPING_MODE, java.util.Optional.of(ObserverKeepingImageExecs::create), false);
        return List.of(StormMode.noAgent(), ebpf, provenance, keeping,
                ebpf.storming("ebpf-observe-dropped", namespaced(fs.droppedDriver())),
                FanotifyStormModes.observe(stormFs), FanotifyStormModes.blockAllowAll(stormFs),
                FanotifyStormModes.blockImageRemembered(stormFs));
    }

    /**
     * {@code -Dstorm.ownNamespaces=true}: every storm (the baseline's too) runs in a pid and mount namespace of its
     * own, as a container's processes do; the eBPF modes only (fanotify's marks do not see the copied mounts).
     */
    static StormDriver namespaced(StormDriver driver) {
        return Boolean.getBoolean("storm.ownNamespaces") ? driver.inOwnNamespaces() : driver;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 25;
        long execs = args.length > 1 ? Long.parseLong(args[1]) : 20_000L;
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
        try (StormFilesystem fs = StormFilesystem.mount(Path.of(System.getProperty("java.io.tmpdir")))) {
            ExecStorm storm = new ExecStorm(namespaced(fs.driver()), execs, workers);
            // -Dstorm.modes=no-agent,ebpf-observe runs only those (the baseline is always kept)
            String only = System.getProperty("storm.modes", "");
            List<StormMode> modes = modes(fs).stream()
                    .filter(m -> only.isEmpty() || m.isBaseline() || List.of(only.split(",")).contains(m.name())).toList();
            ExecStorm.Report report = storm.run(modes, rounds);
            System.out.printf("exec storm: %d rounds x %d execs, %d workers, %d CPUs, %s namespaces, load before %s,"
                    + " after %s%n", rounds, execs, workers, Runtime.getRuntime().availableProcessors(),
                    Boolean.getBoolean("storm.ownNamespaces") ? "own" : "host", loadBefore,
                    Files.readString(Path.of("/proc/loadavg")).trim());
            for (ExecStorm.Round r : report.rounds()) {
                System.out.printf("  round %2d %-24s %8.0f execs/s delivered=%d lost=%s%n", r.round(), r.mode(),
                        r.execsPerSecond(), r.delivered(), r.lostByReason());
            }
            System.out.print(report.format());
        }
    }
}
