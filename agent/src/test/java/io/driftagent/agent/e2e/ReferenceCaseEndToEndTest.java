package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The reference case of docs/alerts.md, "Provenance", on a real containerd container and the whole agent (eBPF
 * source): a shell opened in the container with an exec session ({@code ctr task exec}, what {@code kubectl exec}
 * becomes on the node) downloads a binary from an HTTP server and runs it. The alert names the session, the
 * downloader's command line and the server's address, and the drop's ancestry.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class ReferenceCaseEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:refcase";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);

    private final String target = "drift-e2e-refcase-" + ThreadLocalRandom.current().nextInt(1_000_000);
    private final ContainerdHost containerd = new ContainerdHost("drift-e2e-refcase");

    private Path work;
    private AlertLog alerts;
    private RunningAgent agent;
    private HttpServer server;

    @BeforeAll
    void startAnHttpServerAContainerOnTheHostNetworkAndTheAgent() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: the agent loads BPF; containerd");
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        work = Files.createTempDirectory("drift-e2e-refcase");
        byte[] tool = Files.readAllBytes(Path.of("/bin/busybox"));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/tool", exchange -> {
            exchange.sendResponseHeaders(200, tool.length);
            try (OutputStream body = exchange.getResponseBody()) {
                body.write(tool);
            }
        });
        server.start();
        containerd.importBusybox(work, IMAGE);
        containerd.run(IMAGE, target, "--net-host");

        alerts = new AlertLog(work.resolve("alerts.jsonl"));
        agent = RunningAgent.startStandaloneAndAwaitReady(RunningAgent.alertingOnEveryDrift("ebpf", work, alerts));
    }

    @AfterAll
    void stopEverything() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.stop(0);
        }
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void aBinaryDownloadedAndRunInAnExecSessionNamesTheSessionTheDownloaderAndTheServer() throws Exception {
        // given a shell of an exec session that downloads a tool and runs it
        int port = server.getAddress().getPort();
        String url = "http://127.0.0.1:" + port + "/tool";
        containerd.exec(target, "cd /tmp && wget -q -O /tmp/tool " + url + " && chmod +x /tmp/tool && /tmp/tool true; true");

        // then
        JsonNode alert = alerts.await(AlertLog.forPath(target, "/tmp/tool"), ALERT_WAIT).orElseThrow(
                () -> new AssertionError("no alert for /tmp/tool in:\n" + alerts));
        System.out.println("reference-case alert: " + alert);
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        JsonNode origin = alert.path("drift").path("origin");
        assertThat(AlertLog.strings(origin.path("cmdline"))).as(alert.toString()).contains("wget", url);
        assertThat(origin.path("remote").asString()).as(alert.toString()).isEqualTo("127.0.0.1:" + port);
        assertThat(origin.path("reason").isNull()).as(alert.toString()).isTrue();
        JsonNode process = alert.path("process");
        assertThat(AlertLog.strings(process.path("cmdline"))).as(alert.toString()).containsExactly("/tmp/tool", "true");
        assertThat(process.path("cwd").asString()).as(alert.toString()).isEqualTo("/tmp");
        assertThat(process.path("session").path("kind").asString()).as(alert.toString()).isEqualTo("exec");
        assertThat(process.path("session").path("id").asString("")).as(alert.toString()).isNotEmpty();
        assertThat(process.path("ancestors").size()).as(alert.toString()).isPositive();
        assertThat(AlertLog.strings(process.path("ancestors").get(0).path("cmdline"))).as(alert.toString()).contains("-c");
    }

}
