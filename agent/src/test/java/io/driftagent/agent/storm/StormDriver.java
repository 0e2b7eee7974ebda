package io.driftagent.agent.storm;

import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The native storm driver ({@code src/test/storm/storm.c}) and the tiny static binary it execs
 * ({@code src/test/storm/noop.c}), compiled with gcc into a temp dir.
 */
public final class StormDriver {
    private static final Path SOURCES = Path.of("src/test/storm");
    private static final Pattern RESULT = Pattern.compile("execs=(\\d+) failed=(\\d+) ns=(\\d+) cpu_ns=(\\d+)");

    private final Path driver;
    private final Path noop;
    private final List<String> launcher;

    private StormDriver(Path driver, Path noop, List<String> launcher) {
        this.driver = driver;
        this.noop = noop;
        this.launcher = List.copyOf(launcher);
    }

    /** Empty when gcc and the sources are there; else why the storm cannot run. */
    public static String unavailableReason() {
        if (!Files.isRegularFile(SOURCES.resolve("storm.c"))) {
            return "storm sources not found under " + SOURCES.toAbsolutePath() + " (run from the agent module)";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/gcc"))) {
            return "gcc not installed";
        }
        return "";
    }

    public static StormDriver compile(Path dir) throws IOException, InterruptedException {
        Path driver = dir.resolve("storm");
        Path noop = dir.resolve("drift-storm-noop");
        run(List.of("/usr/bin/gcc", "-O2", "-o", driver.toString(), SOURCES.resolve("storm.c").toString()));
        run(List.of("/usr/bin/gcc", "-O2", "-static", "-nostdlib", "-o", noop.toString(),
                SOURCES.resolve("noop.c").toString()));
        return new StormDriver(driver, noop, List.of());
    }

    /** The same binaries under another directory (e.g. the overlay whose image layer they were compiled into). */
    public StormDriver seenFrom(Path dir) {
        return new StormDriver(dir.resolve(driver.getFileName()), dir.resolve(noop.getFileName()), launcher);
    }

    /** The same driver execing {@code binary} instead. */
    public StormDriver execing(Path binary) {
        return new StormDriver(driver, binary, launcher);
    }

    /**
     * The same storm run in a pid and mount namespace of its own ({@code unshare --pid --mount --fork}), as a
     * container's processes are: the eBPF program then walks each exec's ancestors and working directory, and the
     * write programs look at its descriptors, the work they skip for the host's processes. The new mount namespace
     * holds copies of the host's mounts, so a fanotify mark on the storm's mount does not see these execs.
     */
    public StormDriver inOwnNamespaces() {
        return new StormDriver(driver, noop, List.of("/usr/bin/unshare", "--pid", "--mount", "--fork", "--"));
    }

    /** The absolute path every storm exec uses as its file name. */
    public String execPath() {
        return noop.toString();
    }

    /** The storm binary's identity as the sources report it (stat(2) dev and inode, through the path it is exec'd by). */
    public ExecEvent.FileId execFileId() throws IOException {
        Map<String, Object> a = Files.readAttributes(noop, "unix:dev,ino");
        return new ExecEvent.FileId(((Number) a.get("dev")).longValue(), ((Number) a.get("ino")).longValue());
    }

    /** {@code cpuNanos}: user + system CPU of the storm's processes (workers and every exec'd process). */
    public record Result(long execs, long failed, long nanos, long cpuNanos) {
        public double execsPerSecond() {
            return execs * 1e9 / nanos;
        }
    }

    /** Runs {@code count} fork+execs of the noop binary from {@code workers} parallel workers. */
    public Result storm(long count, int workers) throws IOException, InterruptedException {
        return storm(count, workers, 0);
    }

    /** As {@link #storm(long, int)}, each worker starting one exec every {@code intervalMicros} at most (0: flat out). */
    public Result storm(long count, int workers, long intervalMicros) throws IOException, InterruptedException {
        List<String> argv = new java.util.ArrayList<>(launcher);
        argv.addAll(List.of(driver.toString(), noop.toString(), Long.toString(count), Integer.toString(workers),
                Long.toString(intervalMicros)));
        String out = run(argv);
        Matcher m = RESULT.matcher(out);
        if (!m.find()) {
            throw new IOException("unexpected storm output: " + out);
        }
        return new Result(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)),
                Long.parseLong(m.group(4)));
    }

    private static String run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed: " + out);
        }
        return out;
    }
}
