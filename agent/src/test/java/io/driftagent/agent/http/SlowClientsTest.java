package io.driftagent.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Anyone who reaches the port can open connections and never finish a request: the probes must keep answering (a
 * liveness probe that times out restarts the agent and switches detection off), and such connections must be closed.
 */
class SlowClientsTest {
    private static final int SLOW_CLIENTS = 50;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1)).build();
    private final List<Socket> slow = new ArrayList<>();
    private AgentHttpServer server;

    @AfterEach
    void stop() throws IOException {
        for (Socket socket : slow) {
            socket.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void fiftyClientsThatNeverFinishTheirRequestLineDoNotDelayHealthzAndAreClosedAfterTheHeaderDeadline()
            throws Exception {
        // given a running server (default settings: 5 s to send the request headers)
        server = new AgentHttpServer("127.0.0.1", 0, new Readiness(), () -> "");
        server.start();
        healthz(); // the HTTP client's own first-use cost is not the server's
        // and 50 connections that each send half a request line and then hang
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 1_000);
            } catch (SocketTimeoutException e) {
                socket.close(); // the server stopped accepting: the probes below will show it
                continue;
            }
            OutputStream out = socket.getOutputStream();
            out.write("GET /heal".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            slow.add(socket);
        }
        long openedAt = System.nanoTime();

        // when /healthz is probed every 250 ms for 10 s
        List<Long> probeMillis = new ArrayList<>();
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end) {
            long start = System.nanoTime();
            int status;
            try {
                status = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                        .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode();
            } catch (IOException e) {
                status = -1; // timed out or refused
            }
            probeMillis.add(status == 200 ? Duration.ofNanos(System.nanoTime() - start).toMillis() : Long.MAX_VALUE);
            Thread.sleep(250);
        }

        // then every probe answered 200 within a second
        assertThat(probeMillis).hasSizeGreaterThan(20).allSatisfy(ms -> assertThat(ms).isLessThan(1_000));
        // and every slow connection was closed by the server (end of stream) after the header deadline
        for (Socket socket : slow) {
            socket.setSoTimeout(1_000);
            assertThat(endOfStream(socket.getInputStream())).as("slow connection closed by the server").isTrue();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - openedAt)).isGreaterThan(Duration.ofSeconds(5));
        assertThat(server.closed(AgentHttpServer.CloseReason.HEADER_TIMEOUT)).isEqualTo(SLOW_CLIENTS);
        System.out.printf("slow clients: %d probes, slowest %d ms: %s%n", probeMillis.size(),
                probeMillis.stream().mapToLong(Long::longValue).max().orElseThrow(), probeMillis);
    }

    @Test
    void pastTheConnectionLimitTheOldestIdleConnectionIsClosedAndCountedSoAProbeStillGetsIn() throws Exception {
        // given a server that holds at most 10 connections and waits 30 s for request heads
        server = new AgentHttpServer(HttpSettings.of("127.0.0.1", 0).withMaxConnections(10)
                .withHeaderTimeout(Duration.ofSeconds(30)), new Readiness(), () -> "");
        server.start();

        // when 40 connections are opened and left idle
        for (int i = 0; i < 40; i++) {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 1_000);
            slow.add(socket);
        }

        // then /healthz still answers at once, the 30 oldest idle connections (and the probe's victim) were closed
        long start = System.nanoTime();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/healthz")).timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        assertThat(server.closed(AgentHttpServer.CloseReason.CONNECTION_LIMIT)).isEqualTo(31);
        for (Socket socket : slow.subList(0, 31)) {
            socket.setSoTimeout(1_000);
            assertThat(endOfStream(socket.getInputStream())).isTrue();
        }
        assertThat(server.openConnections()).isLessThanOrEqualTo(10);
    }

    @Test
    void aRequestHeadLargerThanTheLimitIsAnswered431AndCounted() throws Exception {
        // given a running server
        server = new AgentHttpServer("127.0.0.1", 0, new Readiness(), () -> "");
        server.start();

        // when a client sends 64 KiB of headers
        String answer;
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /healthz HTTP/1.1\r\nX-Fill: " + "x".repeat(64 * 1024) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            answer = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
        }

        // then it is refused and counted, and the server goes on answering
        assertThat(answer).isEqualTo("HTTP/1.1 431");
        assertThat(server.closed(AgentHttpServer.CloseReason.HEADER_TOO_LARGE)).isEqualTo(1);
        assertThat(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);
    }

    @Test
    void aMalformedRequestLineIsAnswered400() throws Exception {
        server = new AgentHttpServer("127.0.0.1", 0, new Readiness(), () -> "");
        server.start();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write("HELLO\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 400 ");
        }
        assertThat(server.closed(AgentHttpServer.CloseReason.BAD_REQUEST)).isEqualTo(1);
    }

    private int healthz() throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/healthz"))
                .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /** True if the peer closed the connection (whatever it wrote first), false if it is still open. */
    static boolean endOfStream(InputStream in) throws IOException {
        byte[] buffer = new byte[4096];
        try {
            while (true) {
                if (in.read(buffer) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }
}
