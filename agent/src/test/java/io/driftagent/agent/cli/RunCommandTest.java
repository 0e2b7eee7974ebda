package io.driftagent.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.assembly.AgentComponents;
import io.driftagent.agent.assembly.FakeExecSource;
import io.driftagent.agent.assembly.RuntimeTestComponents;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.SourceChoice;
import io.driftagent.reporter.alert.Alert;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final AtomicReference<AgentConfig> assembled = new AtomicReference<>();
    private final List<Thread> hooks = new CopyOnWriteArrayList<>();

    private int run(Map<String, String> env, String... args) {
        RunCommand command = new RunCommand(env, new ConfigLoader(() -> "test-host"), config -> {
            assembled.set(config);
            throw new IllegalStateException("assembly stops here in this test");
        }, hooks::add);
        return command.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyFlagReachesTheConfiguration() {
        run(Map.of(), "--standalone", "--policy", "/etc/p.yaml", "--alerts", "-", "--source", "ebpf",
                "--http-bind", "127.0.0.1", "--http-port=0");

        AgentConfig config = assembled.get();
        assertThat(config.standalone()).isTrue();
        assertThat(config.nodeName()).isEqualTo("test-host");
        assertThat(config.policyFile()).isEqualTo(Path.of("/etc/p.yaml"));
        assertThat(config.alertsToStdout()).isTrue();
        assertThat(config.source()).isEqualTo(SourceChoice.EBPF);
        assertThat(config.http().port()).isZero();
        assertThat(config.http().bind()).isEqualTo("127.0.0.1");
    }

    @Test
    void theServiceLinksOfAServiceNamedDriftAgentDoNotStopTheAgentFromStarting() {
        // kubelet injects these into every pod of the namespace of `Service drift-agent` (port 9742)
        Map<String, String> env = Map.of("DRIFT_AGENT_PORT", "tcp://10.96.0.10:9742",
                "DRIFT_AGENT_PORT_9742_TCP_ADDR", "10.96.0.10", "DRIFT_AGENT_SERVICE_HOST", "10.96.0.10");

        int exit = run(env, "--standalone");

        assertThat(assembled.get()).as("the configuration was accepted and assembly began").isNotNull();
        assertThat(exit).isEqualTo(1); // this test's assembler stops there
        assertThat(err()).doesNotContain("unknown setting").doesNotContain("invalid configuration");
    }

    @Test
    void theConfigFileComesFromTheFlagOrElseFromDriftConfig() throws IOException {
        Path viaFlag = Files.writeString(dir.resolve("a.yaml"), "cluster: {name: from-flag}\n");
        Path viaEnv = Files.writeString(dir.resolve("b.yaml"), "cluster: {name: from-env}\n");

        run(Map.of("NODE_NAME", "n", "DRIFT_CONFIG", viaEnv.toString()), "--config", viaFlag.toString());
        assertThat(assembled.get().clusterName()).isEqualTo("from-flag");

        run(Map.of("NODE_NAME", "n", "DRIFT_CONFIG", viaEnv.toString()));
        assertThat(assembled.get().clusterName()).isEqualTo("from-env");
    }

    @Test
    void usageErrorsExitWithTwoAndSayWhatIsWrong() {
        assertThat(run(Map.of(), "--verbose")).isEqualTo(2);
        assertThat(err()).contains("drift-agent run: unknown option --verbose").contains("usage:");
        assertUsageError("--policy needs a value", "--policy");
        assertUsageError("unexpected argument 'now'", "now");
        assertUsageError("--source given twice", "--source", "ebpf", "--source", "fanotify");
        assertUsageError("--standalone takes no value", "--standalone=yes");
        assertUsageError("--config given twice", "--config", "a", "--config=b");
        assertThat(assembled.get()).isNull();
    }

    @Test
    void aBadValueIsAConfigurationErrorNamingTheKey() {
        assertThat(run(Map.of(), "--standalone", "--http-port", "eighty", "--source", "kprobe")).isEqualTo(2);

        assertThat(err()).contains("http.port: 'eighty' is not an integer (flag)")
                .contains("source: 'kprobe' must be one of [auto, ebpf, fanotify] (flag)");
    }

    @Test
    void helpPrintsUsageAndSucceeds() {
        assertThat(run(Map.of(), "--help")).isZero();

        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--alerts -|FILE").contains("--http-port N");
    }

    @Test
    void aFailedAssemblyExitsWithOne() {
        assertThat(run(Map.of(), "--standalone")).isEqualTo(1);

        assertThat(err()).contains("cannot start").contains("assembly stops here in this test");
        assertThat(hooks).isEmpty();
    }

    @Test
    void theRealAssemblyReportsAnAlertsFileItCannotOpenAndExitsWithOne() throws IOException {
        Path notADirectory = Files.createTempFile("drift-run-", ".txt");
        try {
            int code = Main.run(new String[] {"run", "--standalone", "--http-port", "0", "--alerts",
                    notADirectory.resolve("alerts.jsonl").toString()},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

            assertThat(code).isEqualTo(1);
            assertThat(err()).contains("cannot start").contains("cannot open the alerts file");
        } finally {
            Files.deleteIfExists(notADirectory);
        }
    }

    @Test
    void runsUntilTheShutdownHookThenDrainsAndExitsCleanly() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        List<Alert> published = new CopyOnWriteArrayList<>();
        FakeExecSource source = new FakeExecSource(log, null);
        AtomicReference<AgentComponents> built = new AtomicReference<>();
        RunCommand command = new RunCommand(Map.of(), new ConfigLoader(() -> "test-host"), config -> {
            built.set(RuntimeTestComponents.build(log, published, source, config.http().port()));
            return built.get();
        }, hooks::add);

        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> command.run(
                new String[] {"--standalone", "--http-port", "0"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
        HttpClient client = HttpClient.newHttpClient();
        URI readyz = awaitReady(client, built);
        source.emit(RuntimeTestComponents.exec("/tmp/dropped"));
        assertThat(hooks).hasSize(1);
        hooks.get(0).run();

        assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
        assertThat(published).extracting(a -> a.drift().path()).containsExactly("/tmp/dropped");
        assertThat(source.isClosed()).isTrue();
        assertThat(log).endsWith("close source", "close informer", "close reporter");
        assertThat(catchConnect(client, readyz)).as("HTTP is closed").isInstanceOf(ConnectException.class);
    }

    private static URI awaitReady(HttpClient client, AtomicReference<AgentComponents> built) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            AgentComponents components = built.get();
            if (components != null) {
                try {
                    URI uri = URI.create("http://127.0.0.1:" + components.http().port() + "/readyz");
                    if (client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                            .statusCode() == 200) {
                        return uri;
                    }
                } catch (IllegalStateException | IOException notYet) {
                    // not started yet
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("agent not ready within 10 s");
    }

    private static Throwable catchConnect(HttpClient client, URI uri) {
        try {
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            return null;
        } catch (Exception e) {
            return e;
        }
    }

    private void assertUsageError(String message, String... args) {
        err.reset();
        assertThat(run(Map.of(), args)).as(String.join(" ", args)).isEqualTo(2);
        assertThat(err()).contains("drift-agent run: " + message);
    }
}
