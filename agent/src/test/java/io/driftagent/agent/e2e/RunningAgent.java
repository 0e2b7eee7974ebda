package io.driftagent.agent.e2e;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentComponents;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** The whole agent, assembled by {@link AgentAssembly} from configuration flags and started in this JVM. */
final class RunningAgent implements AutoCloseable {
    /** A policy that alerts on every drift: the e2e tests' default. */
    static final String ALERT_ON_EVERY_DRIFT = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules: []
            defaultRule:
              action: alert
            """;


    /** One HTTP answer of the agent's endpoints. */
    record Response(int status, String body) {
    }

    private final AgentComponents components;
    private final AgentRuntime runtime;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private RunningAgent(AgentComponents components, AgentRuntime runtime) {
        this.components = components;
        this.runtime = runtime;
    }

    /**
     * Loads the configuration from {@code flags} (no file, no environment), assembles and starts the agent.
     *
     * @param kubernetesClients the client for Kubernetes mode (ignored standalone)
     */
    static RunningAgent start(Map<Setting, String> flags, Function<AgentConfig, KubernetesClient> kubernetesClients)
            throws Exception {
        AgentConfig config = new ConfigLoader(() -> "e2e-host").load(Optional.empty(), Map.of(), flags);
        AgentComponents components = new AgentAssembly(Clock.systemUTC(), new SandboxContainers(), kubernetesClients)
                .assemble(config);
        AgentRuntime runtime = new AgentRuntime(components, config.shutdownTimeout());
        runtime.start();
        return new RunningAgent(components, runtime);
    }

    /**
     * The flags a standalone end-to-end test starts from: this exec source and policy file, alerts as JSON lines in
     * {@code alerts}, HTTP on a free loopback port, no deduplication (every exec is one line).
     */
    static Map<Setting, String> standaloneFlags(String source, Path policy, Path alerts) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.STANDALONE, "true");
        flags.put(Setting.SOURCE, source);
        flags.put(Setting.POLICY_FILE, policy.toString());
        flags.put(Setting.ALERTS_TARGET, alerts.toString());
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        flags.put(Setting.DEDUP_WINDOW, "0s");
        return flags;
    }

    /**
     * {@link #standaloneFlags} for an agent that alerts on every drift: {@link #ALERT_ON_EVERY_DRIFT} written to
     * {@code work/policy.yaml}, the alerts to {@code alerts}.
     */
    static Map<Setting, String> alertingOnEveryDrift(String source, Path work, AlertLog alerts) throws IOException {
        Path policy = Files.writeString(work.resolve("policy.yaml"), ALERT_ON_EVERY_DRIFT);
        return standaloneFlags(source, policy, alerts.file());
    }

    /** Starts a standalone agent (building a Kubernetes client fails the test) and waits until it is Ready. */
    static RunningAgent startStandaloneAndAwaitReady(Map<Setting, String> flags) throws Exception {
        RunningAgent agent = start(flags, config -> {
            throw new AssertionError("standalone mode must not build a Kubernetes client");
        });
        Response ready = agent.awaitReady(Duration.ofSeconds(30));
        if (ready.status() != 200) {
            agent.close();
            throw new AssertionError("the agent is not Ready within 30 s: " + ready.body());
        }
        return agent;
    }

    int httpPort() {
        return components.http().port();
    }

    Response get(String path) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + httpPort() + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Response(response.statusCode(), response.body());
    }

    /** Polls {@code /readyz} until it answers 200; returns the last answer. */
    Response awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Response last = get("/readyz");
        while (last.status() != 200 && System.nanoTime() < deadline) {
            Thread.sleep(100);
            last = get("/readyz");
        }
        return last;
    }

    @Override
    public void close() {
        runtime.stop();
    }
}
