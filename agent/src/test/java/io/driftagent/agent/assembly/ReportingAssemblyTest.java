package io.driftagent.agent.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.json.AlertFormat;
import io.driftagent.reporter.webhook.WebhookSettings;
import io.driftagent.reporter.webhook.WebhookSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The webhook as the configuration builds it: headers from files, the template, the CA bundle, errors at start. */
class ReportingAssemblyTest {

    @TempDir
    Path dir;

    private static final URI SOMEWHERE = URI.create("https://hooks.example/drift");

    private static AgentConfig.Webhook webhook(URI url, List<String> headers, String template, Path caFile) {
        return new AgentConfig.Webhook(url, null, Duration.ofSeconds(2), AlertFormat.DRIFT, headers, template, caFile);
    }

    @Test
    void theConfiguredHeadersFromFilesAndTheTemplateReachTheReceiver() throws Exception {
        // given a receiver, a token in a file, and the configuration naming both
        BlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                received.add(new String[] {exchange.getRequestHeaders().getFirst("Authorization"),
                        new String(in.readAllBytes(), StandardCharsets.UTF_8)});
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        Path token = Files.writeString(dir.resolve("api-key"), "aWQ6a2V5\n");
        URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/_doc");
        WebhookSettings settings = ReportingAssembly.webhookSettings(webhook(url,
                List.of("Authorization: ApiKey {{file:" + token + "}}"),
                "{\"@timestamp\": {{time}}, \"mitre\": {{mitre.ids}}, \"drift\": {{alert}}}", null));

        // when an alert goes through the sink built from those settings
        try (WebhookSink sink = new WebhookSink("webhook", settings, new SimpleMeterRegistry(), Clock.systemUTC())) {
            sink.publish(new Alert(Alert.SCHEMA_VERSION, "a-1", Instant.parse("2026-11-27T18:22:08.123Z"),
                    Alert.AlertType.BinaryDrift, Alert.Severity.high, "alert",
                    new Alert.Drift("ADDED", "/tmp/miner", null, null, null, null),
                    new Alert.Process(10, 1, 0, "/tmp/miner", List.of("/tmp/miner"), null), null,
                    new Alert.Pod("web", "shop", "u", Map.of()), "node-1", null, null, null), 1);

            // then the Elastic-style request arrives as configured
            String[] request = received.poll(10, TimeUnit.SECONDS);
            assertThat(request).isNotNull();
            assertThat(request[0]).isEqualTo("ApiKey aWQ6a2V5");
            JsonNode body = JsonMapper.builder().build().readTree(request[1]);
            assertThat(body.get("@timestamp").asString()).isEqualTo("2026-11-27T18:22:08.123Z");
            assertThat(body.get("mitre").get(0).asString()).isEqualTo("T1105");
            assertThat(body.get("drift").get("drift").get("path").asString()).isEqualTo("/tmp/miner");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aMissingHeaderFileOrABadCaBundleStopsTheStartNamingTheSettingAndTheFile() throws Exception {
        Path missing = dir.resolve("no-such-token");
        assertThatThrownBy(() -> ReportingAssembly.webhookSettings(webhook(SOMEWHERE,
                List.of("Authorization: Bearer {{file:" + missing + "}}"), null, null)))
                .isInstanceOf(AssemblyException.class).hasMessageStartingWith("webhook.headers: ")
                .hasMessageContaining(missing.toString());

        Path notPem = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
        assertThatThrownBy(() -> ReportingAssembly.webhookSettings(webhook(SOMEWHERE, List.of(), null, notPem)))
                .isInstanceOf(AssemblyException.class)
                .hasMessageStartingWith("webhook.caFile: cannot use " + notPem + " as a PEM CA bundle");

        Path absent = dir.resolve("absent.pem");
        assertThatThrownBy(() -> ReportingAssembly.webhookSettings(webhook(SOMEWHERE, List.of(), null, absent)))
                .isInstanceOf(AssemblyException.class).hasMessageContaining(absent.toString());
    }
}
