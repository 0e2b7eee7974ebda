package io.driftagent.systest.pod;

import io.driftagent.systest.kubelet.DockerRun;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The agent container, started with the translated {@code docker run}; its logs, state and HTTP port. */
public final class AgentContainer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentContainer.class);

    private final String name;
    private final DockerRun run;
    private final String id;
    private final long startedNanos;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private AgentContainer(String name, DockerRun run, String id, long startedNanos) {
        this.name = name;
        this.run = run;
        this.id = id;
        this.startedNanos = startedNanos;
    }

    /** {@code docker run -d}: returns once the container is created and started. */
    public static AgentContainer start(String name, DockerRun run) {
        run.deviations().forEach(d -> LOG.info("pod {}: deviation from kubelet + containerd: {}", name, d));
        List<String> argv = run.argv(name);
        LOG.info("pod {}: {}", name, String.join(" ", argv));
        long started = System.nanoTime();
        Result result = exec(argv, Duration.ofSeconds(60));
        if (result.exit() != 0) {
            throw new AssertionError("docker run failed (" + result.exit() + "): " + result.stderr() + result.stdout());
        }
        return new AgentContainer(name, run, result.stdout().trim(), started);
    }

    public String id() {
        return id;
    }

    public String name() {
        return name;
    }

    public DockerRun run() {
        return run;
    }

    public long startedNanos() {
        return startedNanos;
    }

    /** The container's stdout so far (where the alert JSON lines go). */
    public String stdout() {
        return exec(List.of("docker", "logs", id), Duration.ofSeconds(30)).stdout();
    }

    /** The container's stderr so far (the application log). */
    public String stderr() {
        return exec(List.of("docker", "logs", id), Duration.ofSeconds(30)).stderr();
    }

    /** The host pid of the container's first process (the agent's JVM in the chart's image). */
    public long hostPid() {
        return Long.parseLong(inspect("{{.State.Pid}}").trim());
    }

    public boolean running() {
        return "true".equals(inspect("{{.State.Running}}"));
    }

    /** {@code docker inspect} State.StartedAt: changes when the container restarts. */
    public String startedAt() {
        return inspect("{{.State.StartedAt}}");
    }

    public String state() {
        return inspect("status={{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}} "
                + "error={{.State.Error}} restarts={{.RestartCount}}");
    }

    private String inspect(String format) {
        Result result = exec(List.of("docker", "inspect", "--format", format, id), Duration.ofSeconds(30));
        if (result.exit() != 0) {
            throw new AssertionError("docker inspect " + id + ": " + result.stderr());
        }
        return result.stdout().trim();
    }

    /** GET {@code http://127.0.0.1:<port><path>} (the pod's port; host network here). */
    public HttpResponse<String> get(int port, String path, Duration timeout) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(timeout).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The port the container declares under {@code name} (e.g. {@code http}). */
    public int port(String portName) {
        Integer port = run.ports().get(portName);
        if (port == null) {
            throw new AssertionError("the container declares no port " + portName + ": " + run.ports());
        }
        return port;
    }

    /** Everything a failure message needs: state and the tail of both streams. */
    public String diagnostics() {
        Result logs = exec(List.of("docker", "logs", "--tail", "60", id), Duration.ofSeconds(30));
        return "container " + name + " " + state() + "\n--- stdout (tail) ---\n" + logs.stdout()
                + "\n--- stderr (tail) ---\n" + logs.stderr();
    }

    @Override
    public void close() {
        exec(List.of("docker", "rm", "-f", id), Duration.ofSeconds(60));
    }

    record Result(int exit, String stdout, String stderr) {
    }

    static Result exec(List<String> argv, Duration timeout) {
        try {
            Process process = new ProcessBuilder(argv).start();
            process.getOutputStream().close();
            var stderrReader = new java.util.concurrent.CompletableFuture<String>();
            Thread errors = new Thread(() -> {
                try {
                    stderrReader.complete(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    stderrReader.complete("(stderr unreadable: " + e + ")");
                }
            });
            errors.start();
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", argv));
            }
            errors.join();
            return new Result(process.exitValue(), stdout, stderrReader.join());
        } catch (IOException e) {
            throw new AssertionError("cannot run " + argv, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + argv, e);
        }
    }
}
