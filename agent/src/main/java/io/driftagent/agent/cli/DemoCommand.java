package io.driftagent.agent.cli;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.sandbox.OverlaySandbox;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code demo}: the whole agent, for real, on this machine. Builds a tiny image from the host's static busybox, runs
 * it as a sandbox container, executes an image binary (no alert) and a dropped binary (an alert), prints the alert
 * lines and a summary. Exit 0 when the agent saw exactly that, 1 otherwise, 2 for a machine that cannot run it.
 */
final class DemoCommand {

    private static final String DROPPED = "/tmp/wget";
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: alert-on-demo-workloads
                priority: 10
                description: "Drift in the demo container is alerted"
                action: alert
                resourceScope:
                  - field: containerName
                    operator: equals
                    values: ["demo"]
            defaultRule:
              action: ignore
            """;
    private static final Duration WAIT = Duration.ofSeconds(15);

    private record Seen(ExecEvent event, Classification classification) {
    }

    private DemoCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        String source = "auto";
        if (args.length == 2 && args[0].equals("--source") && args[1].matches("auto|ebpf|fanotify")) {
            source = args[1];
        } else if (args.length > 0) {
            err.println("drift-agent demo: usage: demo [--source auto|ebpf|fanotify]");
            return 2;
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            err.println("drift-agent demo: must run as root (it loads a BPF program or marks filesystems, and mounts an overlay)");
            return 2;
        }
        Path work;
        try {
            work = Files.createTempDirectory("drift-demo-");
        } catch (IOException e) {
            err.println("drift-agent demo: " + e.getMessage());
            return 2;
        }
        try {
            return runIn(work, source, out, err);
        } finally {
            deleteQuietly(work);
        }
    }

    private static int runIn(Path work, String source, PrintStream out, PrintStream err) {
        Path policy = work.resolve("policy.yaml");
        Path alerts = work.resolve("alerts.jsonl");
        SandboxContainers sandboxes = new SandboxContainers();
        AgentRuntime runtime;
        try {
            Files.writeString(policy, POLICY);
            AgentConfig config = new ConfigLoader(HostName::read).load(Optional.empty(), Map.of(), Map.of(
                    Setting.STANDALONE, "true",
                    Setting.SOURCE, source,
                    Setting.POLICY_FILE, policy.toString(),
                    Setting.ALERTS_TARGET, alerts.toString(),
                    Setting.HTTP_BIND, "127.0.0.1",
                    Setting.HTTP_PORT, "0",
                    Setting.DEDUP_WINDOW, "0s"));
            runtime = new AgentRuntime(new AgentAssembly(Clock.systemUTC(), sandboxes).assemble(config),
                    config.shutdownTimeout());
            runtime.start();
        } catch (Exception e) {
            err.println("drift-agent demo: cannot start the agent: " + e.getMessage());
            return 2;
        }
        List<Seen> seen = new CopyOnWriteArrayList<>();
        try (OverlaySandbox sandbox = OverlaySandbox.create("demo-" + ProcessHandle.current().pid(), OverlaySandbox.DEFAULT_BUSYBOX)) {
            ContainerId id = sandboxes.register(sandbox,
                    new WorkloadMetadata(null, null, null, Map.of("app", "demo"), "demo", "drift-demo/busybox:local", null),
                    true, (event, classification) -> seen.add(new Seen(event, classification)));
            out.println("demo: container " + id + " (image: /bin/busybox from the host, overlay at " + sandbox.mergedDir() + ")");
            out.println("demo: 1. exec an image binary:   /bin/ls /");
            sandbox.run("/bin/ls / > /dev/null", Duration.ofSeconds(10));
            out.println("demo: 2. drop a binary and exec it: cp /bin/busybox " + DROPPED + " && " + DROPPED + " --help");
            sandbox.run("cp /bin/busybox " + DROPPED + " && " + DROPPED + " --help > /dev/null 2>&1; true", Duration.ofSeconds(10));
            boolean alerted = awaitAlert(alerts);
            runtime.stop();
            sandboxes.unregister(id);
            return report(alerts, seen, alerted, out);
        } catch (Exception e) {
            err.println("drift-agent demo: " + e.getMessage());
            return 1;
        } finally {
            runtime.stop();
        }
    }

    private static boolean awaitAlert(Path alerts) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(alerts) && Files.readString(alerts, StandardCharsets.UTF_8).contains("\"" + DROPPED + "\"")) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    private static int report(Path alerts, List<Seen> seen, boolean alerted, PrintStream out) throws IOException {
        List<String> lines = Files.exists(alerts) ? Files.readAllLines(alerts, StandardCharsets.UTF_8) : List.of();
        out.println();
        out.println("demo: alerts (JSON lines, as the agent writes them):");
        lines.forEach(out::println);
        out.println();
        Map<DriftKind, Integer> byKind = new EnumMap<>(DriftKind.class);
        for (Seen s : seen) {
            byKind.merge(s.classification().kind(), 1, Integer::sum);
            out.printf("demo: exec %-12s -> %s%s%n", s.event().filename(), s.classification().kind(),
                    s.classification().reason() == null ? "" : " (" + s.classification().reason() + ")");
        }
        long otherAlerts = lines.stream().filter(l -> !l.contains("\"path\":\"" + DROPPED + "\"")).count();
        boolean ok = alerted && otherAlerts == 0 && byKind.getOrDefault(DriftKind.IMAGE, 0) > 0;
        out.printf("demo: summary: %d execs classified in the demo container %s, %d alert(s); other alerts: %d; "
                + "dropped binary alerted: %s -> %s%n", seen.size(), byKind, lines.size(), otherAlerts, alerted,
                ok ? "OK" : "UNEXPECTED");
        return ok ? 0 : 1;
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind is harmless
        }
    }
}
