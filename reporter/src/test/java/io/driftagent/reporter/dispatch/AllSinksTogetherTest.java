package io.driftagent.reporter.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.dedup.AlertDeduplicator;
import io.driftagent.reporter.dedup.MutableClock;
import io.driftagent.reporter.json.JsonLinesSink;
import io.driftagent.reporter.k8s.KubernetesEventSettings;
import io.driftagent.reporter.k8s.KubernetesEventSink;
import io.driftagent.reporter.metrics.DriftMetrics;
import io.driftagent.reporter.metrics.MetricsAlertSink;
import io.driftagent.reporter.webhook.WebhookSettings;
import io.driftagent.reporter.webhook.WebhookSignature;
import io.driftagent.reporter.webhook.WebhookSink;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The reporter wired the way the agent wires it: one alert stream, every sink, deduplication, one scrape. */
class AllSinksTogetherTest {

    @TempDir
    Path dir;

    @Test
    void repeatedDriftReachesEverySinkAsOneAlertPlusOneSummary() throws Exception {
        // given
        MutableClock clock = new MutableClock(SampleAlerts.TIME);
        DriftMetrics metrics = DriftMetrics.create();
        byte[] secret = "shared".getBytes(StandardCharsets.UTF_8);
        List<String> verifiedBodies = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            if (new WebhookSignature(secret).verify(exchange.getRequestHeaders().getFirst("X-Drift-Timestamp"), body,
                    exchange.getRequestHeaders().getFirst("X-Drift-Signature"))) {
                verifiedBodies.add(new String(body, StandardCharsets.UTF_8));
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        KubernetesMockServer apiServer = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        apiServer.init(InetAddress.getLoopbackAddress(), 0);
        Path alertsFile = dir.resolve("alerts.jsonl");
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(KubernetesEventSink
                .fastFailingConfig(apiServer.createClient().getConfiguration(), Duration.ofSeconds(5))).build()) {
            URI hook = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
            List<AlertSink> sinks = List.of(
                    JsonLinesSink.appendingTo(alertsFile),
                    new MetricsAlertSink(metrics, clock),
                    new KubernetesEventSink(client, KubernetesEventSettings.of("node-1"), metrics.registry(), clock),
                    new WebhookSink("webhook", WebhookSettings.of(hook).withHmacSecret(secret), metrics.registry(),
                            clock));
            AlertDispatcher dispatcher = AlertDispatcher.builder().sinks(sinks).capacity(1024)
                    .sinkTimeout(Duration.ofSeconds(10)).registry(metrics.registry()).clock(clock)
                    .deduplicator(new AlertDeduplicator(Duration.ofSeconds(30), 10_000, clock, metrics.registry()))
                    .build();

            // when the same drift happens 4 times, then the window passes
            Alert alert = SampleAlerts.full();
            for (int i = 0; i < 4; i++) {
                dispatcher.submit(alert);
            }
            awaitPublished(metrics, "kubernetes-events", 1);
            clock.advance(Duration.ofSeconds(31));
            awaitPublished(metrics, "kubernetes-events", 2);
            dispatcher.close(Duration.ofSeconds(10));

            // then: JSON lines: the first alert, then a summary with count 3
            JsonMapper mapper = JsonMapper.builder().build();
            List<String> lines = Files.readAllLines(alertsFile, StandardCharsets.UTF_8);
            assertThat(lines).hasSize(2);
            assertThat(mapper.readTree(lines.get(0)).has("count")).isFalse();
            assertThat(mapper.readTree(lines.get(1)).get("count").asInt()).isEqualTo(3);
            // the webhook received the same two bodies, signed
            assertThat(verifiedBodies).containsExactlyElementsOf(lines);
            // one Kubernetes Event counting all 4
            List<Event> events = client.v1().events().inNamespace("shop").list().getItems();
            assertThat(events).singleElement().extracting(Event::getCount).isEqualTo(4);
            // the metrics count occurrences
            assertThat(metrics.scrape())
                    .contains("drift_alerts_total{type=\"BinaryDrift\"} 4.0")
                    .contains("drift_dedup_suppressed_total 3.0")
                    .contains("drift_sink_alerts_total{outcome=\"published\",sink=\"json-file\"} 2.0")
                    .contains("drift_webhook_deliveries_total{result=\"delivered\",sink=\"webhook\"} 2.0")
                    .contains("drift_k8s_events_total{result=\"patched\"} 1.0")
                    .contains("drift_sink_last_success_timestamp_seconds{sink=\"json-file\"} 1.795803759123E9");
            JsonNode first = mapper.readTree(lines.get(0));
            assertThat(first.get("id").asString()).isEqualTo(alert.id());
        } finally {
            receiver.stop(0);
            apiServer.destroy();
        }
    }

    private static void awaitPublished(DriftMetrics metrics, String sink, double n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (metrics.registry().get("drift.sink.alerts").tag("sink", sink).tag("outcome", "published").counter()
                .count() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }
}
