package io.driftagent.agent.storm;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentComponents;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the permission guard adds to one exec it must ask about, in one run. The whole agent (standalone, the real
 * guard and decider) and two containerd containers of the same image: {@code guarded} under a block rule whose allow
 * list holds {@code /tmp/*}, {@code unguarded} under none. In each, a dropped static no-op ({@code /tmp/noop}, ADDED
 * drift, never remembered: every exec of it in the guarded container is asked and allowed) is exec'd by
 * {@code src/test/storm/exec-latency.c}: one exec at a time, each timed from fork to its reaped exit. Each round runs,
 * in a rotating order: {@code off} (the unguarded container), {@code floor} (the unguarded container under
 * {@code scripts/bench/perm-floor-guard.c}, a C guard answering allow without looking: the kernel's round trip alone)
 * and {@code guard} (the guarded container). Added = the mode's per-exec median minus the same round's {@code off}.
 * The agent's own share is read from its metrics: {@code drift_guard_answer_seconds_total} by phase over
 * {@code drift_guard_decided_total}. From the {@code agent} directory, as root, after a build:
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     io.driftagent.agent.storm.AskedExecLatencyBenchmark [rounds=10] [execs=2000]
 * </pre>
 */
public final class AskedExecLatencyBenchmark {

    private static final String IMAGE = "docker.io/drift-guard-latency/busybox:bench";
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: block-but-allow-tmp
                priority: 1
                action: block
                resourceScope:
                  - {field: containerName, operator: equals, values: [guarded]}
                allowList: ["glob:/tmp/*"]
            defaultRule:
              action: ignore
            """;
    private static final Pattern RESULT = Pattern.compile(
            "execs=(\\d+) failed=(\\d+) min=(\\d+) p25=(\\d+) p50=(\\d+) p75=(\\d+) p90=(\\d+) mean=(\\d+)");
    private static final List<String> PHASES = List.of("prepare", "lane_wait", "decide");

    private AskedExecLatencyBenchmark() {
    }

    private record Latency(long execs, long failed, double minUs, double p25Us, double p50Us, double meanUs) {
        static Latency parse(String out) {
            Matcher m = RESULT.matcher(out);
            if (!m.find()) {
                throw new IllegalStateException("unexpected exec-latency output: " + out);
            }
            return new Latency(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)) / 1e3,
                    Long.parseLong(m.group(4)) / 1e3, Long.parseLong(m.group(5)) / 1e3, Long.parseLong(m.group(8)) / 1e3);
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int execs = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        if (!HostCommands.isRoot() || !ContainerdHost.available() || !BusyboxImage.available()) {
            throw new IllegalStateException("needs root, containerd (scripts/host-setup.sh) and busybox-static");
        }
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
        ContainerdHost containerd = new ContainerdHost("drift-guard-latency");
        Path work = Files.createTempDirectory("drift-guard-latency");
        AgentRuntime agent = null;
        try {
            containerd.importBusybox(work, IMAGE);
            String guarded = ContainerdHost.randomContainerId();
            int guardedPid = containerd.runAsCriContainer(IMAGE, guarded, UUID.randomUUID().toString(), "guarded-0",
                    "bench", "guarded");
            String unguarded = ContainerdHost.randomContainerId();
            int unguardedPid = containerd.runAsCriContainer(IMAGE, unguarded, UUID.randomUUID().toString(),
                    "unguarded-0", "bench", "unguarded");
            Path bin = Files.createDirectories(work.resolve("bin"));
            HostCommands.run("/usr/bin/gcc", "-O2", "-static", "-o", bin.resolve("lat").toString(),
                    "src/test/storm/exec-latency.c");
            HostCommands.run("/usr/bin/gcc", "-O2", "-static", "-nostdlib", "-o", bin.resolve("noop").toString(),
                    "src/test/storm/noop.c");
            HostCommands.run("/usr/bin/gcc", "-O2", "-o", bin.resolve("floor").toString(),
                    "../scripts/bench/perm-floor-guard.c", "-lpthread");
            for (int pid : List.of(guardedPid, unguardedPid)) {
                for (String name : List.of("lat", "noop")) {
                    Path to = Path.of("/proc/" + pid + "/root/tmp/" + name);
                    Files.copy(bin.resolve(name), to, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }

            Path policy = Files.writeString(work.resolve("policy.yaml"), POLICY);
            AgentConfig config = new ConfigLoader(() -> "bench-node").load(Optional.empty(), Map.of(), Map.of(
                    Setting.STANDALONE, "true", Setting.POLICY_FILE, policy.toString(),
                    Setting.ALERTS_TARGET, work.resolve("alerts.jsonl").toString(), Setting.HTTP_BIND, "127.0.0.1",
                    Setting.HTTP_PORT, "0"));
            AgentComponents components = new AgentAssembly(Clock.systemUTC()).assemble(config);
            agent = new AgentRuntime(components, Duration.ofSeconds(5));
            agent.start();
            URI metrics = URI.create("http://127.0.0.1:" + components.http().port() + "/metrics");

            // warm-up: the guarded container's first execs put it under the guard; the JIT gets the paths hot
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (scrape(metrics).getOrDefault("drift_guard_decided_total", 0.0) < 1) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the guarded container was not put under the guard within 60 s");
                }
                try {
                    lat(containerd, guarded, 50);
                } catch (IllegalStateException firstDecisionLate) {
                    // the first decision of a container builds its image index and may miss its deadline (denied)
                    System.out.println("warm-up: " + firstDecisionLate.getMessage());
                }
            }
            lat(containerd, guarded, execs);
            lat(containerd, unguarded, execs);

            Map<String, List<Double>> added = new HashMap<>();
            Map<String, List<Double>> addedMin = new HashMap<>();
            List<Double> agentMean = new ArrayList<>();
            Map<String, List<Double>> phaseMeans = new HashMap<>();
            List<String> order = new ArrayList<>(List.of("off", "floor", "guard"));
            for (int round = 1; round <= rounds; round++) {
                Map<String, Latency> r = new HashMap<>();
                Map<String, Double> phaseUs = new HashMap<>();
                for (String mode : order) {
                    switch (mode) {
                        case "off" -> r.put(mode, lat(containerd, unguarded, execs));
                        case "floor" -> {
                            Process floor = new ProcessBuilder(bin.resolve("floor").toString(),
                                    "/proc/" + unguardedPid + "/root", "1").inheritIO().start();
                            try {
                                Thread.sleep(300);
                                r.put(mode, lat(containerd, unguarded, execs));
                            } finally {
                                floor.destroy();
                                floor.waitFor();
                            }
                        }
                        default -> {
                            Map<String, Double> before = scrape(metrics);
                            r.put(mode, lat(containerd, guarded, execs));
                            Map<String, Double> after = scrape(metrics);
                            double decided = delta(before, after, "drift_guard_decided_total");
                            for (String phase : PHASES) {
                                String key = "drift_guard_answer_seconds_total{phase=\"" + phase + "\"}";
                                phaseUs.put(phase, decided == 0 ? 0 : delta(before, after, key) * 1e6 / decided);
                            }
                            phaseUs.put("decided", decided);
                            phaseUs.put("at_once", delta(before, after, "at_once"));
                            phaseUs.put("before_proc", delta(before, after, "drift_guard_decided_before_proc_total"));
                        }
                    }
                }
                double off = r.get("off").p50Us();
                double total = PHASES.stream().mapToDouble(phaseUs::get).sum();
                agentMean.add(total);
                PHASES.forEach(ph -> phaseMeans.computeIfAbsent(ph, k -> new ArrayList<>()).add(phaseUs.get(ph)));
                for (String mode : List.of("floor", "guard")) {
                    added.computeIfAbsent(mode, k -> new ArrayList<>()).add(r.get(mode).p50Us() - off);
                    addedMin.computeIfAbsent(mode, k -> new ArrayList<>()).add(r.get(mode).minUs() - r.get("off").minUs());
                }
                System.out.printf("round %2d  p50 us: off %.1f floor %.1f guard %.1f | min us: off %.1f floor %.1f "
                                + "guard %.1f | failed %d/%d/%d | guard in-process us/exec: %.1f (prepare %.1f, lane wait "
                                + "%.1f, decide %.1f; %.0f decided, %.0f at once, %.0f before reading /proc)%n", round, off,
                        r.get("floor").p50Us(),
                        r.get("guard").p50Us(), r.get("off").minUs(), r.get("floor").minUs(), r.get("guard").minUs(),
                        r.get("off").failed(), r.get("floor").failed(), r.get("guard").failed(), total,
                        phaseUs.get("prepare"), phaseUs.get("lane_wait"), phaseUs.get("decide"), phaseUs.get("decided"),
                        phaseUs.get("at_once"), phaseUs.get("before_proc"));
                order.add(order.remove(0));
            }
            System.out.printf("asked-exec latency: %d rounds x %d execs, load before %s, after %s%n", rounds, execs,
                    loadBefore, Files.readString(Path.of("/proc/loadavg")).trim());
            System.out.printf("  added per exec, median over rounds of (p50 - off's p50): floor %.1f us, guard %.1f us "
                            + "(guard above the floor %.1f us); of the minima: floor %.1f us, guard %.1f us%n",
                    median(added.get("floor")), median(added.get("guard")),
                    median(added.get("guard")) - median(added.get("floor")), median(addedMin.get("floor")),
                    median(addedMin.get("guard")));
            System.out.printf("  the guard's own read-to-answer time per decided exec, median over rounds: %.1f us "
                            + "(prepare %.1f, lane wait %.1f, decide %.1f)%n", median(agentMean),
                    median(phaseMeans.get("prepare")), median(phaseMeans.get("lane_wait")),
                    median(phaseMeans.get("decide")));
        } finally {
            if (agent != null) {
                agent.stop();
            }
            containerd.removeAll();
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    private static Latency lat(ContainerdHost containerd, String container, int execs) {
        String out = HostCommands.run("ctr", "-n", containerd.namespace(), "task", "exec", "--exec-id",
                "lat-" + UUID.randomUUID().toString().substring(0, 8), container, "/tmp/lat", "/tmp/noop",
                Integer.toString(execs));
        return Latency.parse(out);
    }

    private static Map<String, Double> scrape(URI metrics) throws IOException, InterruptedException {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> samples = new HashMap<>();
        for (String line : body.split("\n")) {
            if (line.startsWith("drift_guard_")) {
                int space = line.lastIndexOf(' ');
                String key = line.substring(0, space);
                double value = Double.parseDouble(line.substring(space + 1));
                samples.put(key, value);
                if (key.startsWith("drift_guard_decided_total{")) {
                    samples.merge("drift_guard_decided_total", value, Double::sum);
                    if (key.contains("where=\"at_once\"")) {
                        samples.put("at_once", value);
                    }
                }
            }
        }
        return samples;
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
        return after.getOrDefault(key, 0.0) - before.getOrDefault(key, 0.0);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
