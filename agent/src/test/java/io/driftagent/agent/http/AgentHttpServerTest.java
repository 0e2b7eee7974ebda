package io.driftagent.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class AgentHttpServerTest {

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Readiness readiness = new Readiness();
    private final AtomicBoolean policyLoaded = new AtomicBoolean(true);
    private AgentHttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = new AgentHttpServer("127.0.0.1", 0, readiness,
                () -> "# TYPE drift_alerts_total counter\ndrift_alerts_total 3.0\n");
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void portZeroBindsAnEphemeralPortThatIsExposed() {
        assertThat(server.port()).isPositive();
    }

    @Test
    void healthzAnswersOkWhileTheProcessLives() throws Exception {
        HttpResponse<String> response = get("/healthz");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("ok\n");
    }

    @Test
    void readyzIsOkWhenEveryCheckPasses() throws Exception {
        readiness.register("source", () -> ReadinessCheck.Result.passing());
        readiness.register("policy", () -> ReadinessCheck.Result.passing());

        HttpResponse<String> response = get("/readyz");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = JsonMapper.builder().build().readTree(response.body());
        assertThat(body.get("status").asString()).isEqualTo("ready");
        assertThat(body.get("checks").get("source").get("ready").asBoolean()).isTrue();
    }

    @Test
    void readyzNamesEachFailingCheckAndItsReason() throws Exception {
        readiness.register("source", () -> ReadinessCheck.Result.passing());
        readiness.register("policy", () -> policyLoaded.get()
                ? ReadinessCheck.Result.passing() : ReadinessCheck.Result.failing("policy.yaml:3:5 unknown action"));
        readiness.register("informer", () -> {
            throw new IllegalStateException("informer not started");
        });
        policyLoaded.set(false);

        HttpResponse<String> response = get("/readyz");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode body = JsonMapper.builder().build().readTree(response.body());
        assertThat(body.get("status").asString()).isEqualTo("not ready");
        assertThat(body.get("checks").get("policy").get("reason").asString()).isEqualTo("policy.yaml:3:5 unknown action");
        assertThat(body.get("checks").get("informer").get("reason").asString()).contains("informer not started");
        assertThat(body.get("checks").get("source").get("ready").asBoolean()).isTrue();
        assertThat(body.get("checks").get("source").has("reason")).isFalse();

    }

    @Test
    void readyzIsNotReadyBeforeAnyCheckIsRegistered() throws Exception {
        HttpResponse<String> response = get("/readyz");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("no readiness checks registered yet");
    }

    @Test
    void metricsServesThePrometheusTextFormat() throws Exception {
        HttpResponse<String> response = get("/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(response.body()).contains("drift_alerts_total 3.0");
    }

    @Test
    void aFailingScrapeIs500AndTheServerKeepsServing() throws Exception {
        server.close();
        server = new AgentHttpServer("127.0.0.1", 0, readiness, () -> {
            throw new IllegalStateException("registry closed");
        });
        server.start();

        assertThat(get("/metrics").statusCode()).isEqualTo(500);
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    void headAnswersWithoutABody() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/healthz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEmpty();
    }

    @Test
    void anythingElseIsNotFound() throws Exception {
        assertThat(get("/").statusCode()).isEqualTo(404);
        assertThat(get("/healthz/extra").statusCode()).isEqualTo(404);
        assertThat(get("/metricsx").statusCode()).isEqualTo(404);
    }

    @Test
    void otherMethodsAreNotAllowed() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build());

        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }

    @Test
    void manyConcurrentRequestsAreAllServed() throws Exception {
        var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<HttpResponse<String>>>();
        for (int i = 0; i < 100; i++) {
            futures.add(client.sendAsync(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString()));
        }

        for (var future : futures) {
            assertThat(future.get().statusCode()).isEqualTo(200);
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
