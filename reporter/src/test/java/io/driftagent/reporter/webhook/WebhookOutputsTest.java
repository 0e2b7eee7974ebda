package io.driftagent.reporter.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.json.AlertFormat;
import io.driftagent.reporter.json.AlertJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The webhook as users route it: Falco's payload for falcosidekick, tokens from Secret files, a private CA. */
class WebhookOutputsTest {

    /** falcosidekick's input (its {@code types.FalcoPayload}), read strictly. */
    record FalcoPayload(String uuid, String output, String priority, String rule, Instant time,
                        Map<String, Object> output_fields, String source, List<String> tags, String hostname) {
    }

    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger sinkLogger = (Logger) LoggerFactory.getLogger(WebhookSink.class);
    private Level previousLevel;

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        sinkLogger.detachAppender(logs);
        if (previousLevel != null || logs.isStarted()) {
            sinkLogger.setLevel(previousLevel);
        }
    }

    private <T extends AutoCloseable> T closing(T closeable) {
        toClose.add(closeable);
        return closeable;
    }

    private WebhookSink sink(WebhookSettings settings) {
        return closing(new WebhookSink("hook", settings, registry, Clock.systemUTC()));
    }

    private void captureSinkLogs() {
        previousLevel = sinkLogger.getLevel();
        sinkLogger.setLevel(Level.DEBUG);
        logs.start();
        sinkLogger.addAppender(logs);
    }

    private String allLogs() {
        StringBuilder all = new StringBuilder();
        for (ILoggingEvent event : logs.list) {
            all.append(event.getFormattedMessage()).append('\n');
            if (event.getThrowableProxy() != null) {
                all.append(event.getThrowableProxy().getMessage()).append('\n');
            }
        }
        return all.toString();
    }

    /** A Secret volume as kubelet writes it: {@code key -> ..data/key}, {@code ..data -> ..<timestamp>}. */
    private Path secretVolume(String key, String value) throws IOException {
        Path volume = Files.createDirectories(dir.resolve("secret"));
        Path version = Files.createDirectories(volume.resolve("..v1"));
        Files.writeString(version.resolve(key), value);
        Files.createSymbolicLink(volume.resolve("..data"), version.getFileName());
        Files.createSymbolicLink(volume.resolve(key), Path.of("..data", key));
        return volume.resolve(key);
    }

    /** kubelet's update: a new version directory, then an atomic rename of a new {@code ..data} link over the old. */
    private void rotateSecret(Path volume, String version, String key, String value) throws IOException {
        Path versionDir = Files.createDirectories(volume.resolve(version));
        Files.writeString(versionDir.resolve(key), value);
        Path link = Files.createSymbolicLink(volume.resolve("..data_tmp"), versionDir.getFileName());
        Files.move(link, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void awaitMetric(DoubleSupplier value, double expected) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (value.getAsDouble() < expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(value.getAsDouble()).isEqualTo(expected);
    }

    private double headerReloads(String result) {
        return registry.get("drift.webhook.header.reloads").tag("sink", "hook").tag("result", result).counter().count();
    }

    @Test
    void falcoFormatPostsWhatFalcosidekickReadsAsAFalcoPayload() throws Exception {
        // given a local receiver standing in for falcosidekick's HTTP input
        LoopbackReceiver falcosidekick = closing(LoopbackReceiver.http());
        WebhookSink sink = sink(WebhookSettings.of(falcosidekick.endpoint()).withBody(AlertFormat.FALCO.newEncoder()));
        Alert alert = SampleAlerts.full();

        // when
        sink.publish(alert, 2);

        // then the body parses as falcosidekick's payload: Falco priority, RFC 3339 time with nanoseconds, tags
        LoopbackReceiver.Request request = falcosidekick.next(WAIT);
        assertThat(request.header("Content-Type")).isEqualTo("application/json");
        assertThat(request.bodyText()).matches(".*\"time\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z\".*");
        FalcoPayload payload = STRICT.readValue(request.body(), FalcoPayload.class);
        assertThat(payload.time()).isEqualTo(alert.time());
        assertThat(payload.priority()).isEqualTo("Critical");
        assertThat(payload.rule()).isEqualTo("Drifted binary executed in container");
        assertThat(payload.source()).isEqualTo("syscall");
        assertThat(payload.hostname()).isEqualTo("node-1");
        assertThat(payload.tags()).contains("T1105", "T1036.005", "mitre_command_and_control");
        assertThat(payload.output_fields()).containsEntry("k8s.pod.name", "web-7d9f")
                .containsEntry("container.id", "0123456789ab").containsEntry("drift.count", 2);
        assertThat(payload.output()).contains("Critical Drifted binary executed in container (kind=MODIFIED");
    }

    @Test
    void splunkTokenFromAMountedSecretIsSentRereadWhenRotatedAndNeverLogged() throws Exception {
        // given a Secret volume holding a HEC token, and a body template wrapping the alert as HEC expects
        captureSinkLogs();
        Path token = secretVolume("hec-token", "11111111-aaaa-bbbb-cccc-000000000001\n");
        LoopbackReceiver splunk = closing(LoopbackReceiver.http());
        WebhookHeaders headers = WebhookHeaders.load(List.of(
                "Authorization: Splunk {{file:" + token + "}}",
                "X-Splunk-Request-Channel: 0b0f7a4e-1111-2222-3333-444455556666",
                "Content-Type: application/json; charset=utf-8"));
        BodyTemplate hec = BodyTemplate.parse(
                "{\"time\": {{epochSeconds}}, \"host\": {{node}}, \"sourcetype\": \"drift-agent\", \"event\": {{alert}}}");
        WebhookSink sink = sink(WebhookSettings.of(splunk.endpoint()).withHeaders(headers).withBody(hec));

        // when an alert is sent
        sink.publish(SampleAlerts.full(), 1);

        // then the token is in the Authorization header, the event is the alert, Content-Type the configured one
        LoopbackReceiver.Request first = splunk.next(WAIT);
        assertThat(first.header("Authorization")).isEqualTo("Splunk 11111111-aaaa-bbbb-cccc-000000000001");
        assertThat(first.header("X-Splunk-Request-Channel")).isEqualTo("0b0f7a4e-1111-2222-3333-444455556666");
        assertThat(first.header("Content-Type")).isEqualTo("application/json; charset=utf-8");
        JsonNode body = STRICT.readTree(first.body());
        assertThat(body.get("host").asString()).isEqualTo("node-1");
        assertThat(body.get("time").asLong()).isEqualTo(SampleAlerts.TIME.getEpochSecond());
        assertThat(body.get("event")).isEqualTo(STRICT.readTree(new AlertJson().toBytes(SampleAlerts.full(), 1)));

        // when kubelet rotates the Secret
        rotateSecret(token.getParent(), "..v2", "hec-token", "22222222-aaaa-bbbb-cccc-000000000002");
        sink.publish(SampleAlerts.full(), 1);

        // then the next request carries the new token, counted
        assertThat(splunk.next(WAIT).header("Authorization")).isEqualTo("Splunk 22222222-aaaa-bbbb-cccc-000000000002");
        awaitMetric(() -> headerReloads("reloaded"), 1);

        // when the Secret turns invalid (a control character cannot go into a header)
        rotateSecret(token.getParent(), "..v3", "hec-token", "3333cafe\u0001broken");
        sink.publish(SampleAlerts.full(), 1);

        // then the last good token is kept and the failure counted, once for that broken version
        assertThat(splunk.next(WAIT).header("Authorization")).isEqualTo("Splunk 22222222-aaaa-bbbb-cccc-000000000002");
        awaitMetric(() -> headerReloads("failed"), 1);
        sink.publish(SampleAlerts.full(), 1);
        assertThat(splunk.next(WAIT).header("Authorization")).isEqualTo("Splunk 22222222-aaaa-bbbb-cccc-000000000002");
        assertThat(headerReloads("failed")).isEqualTo(1);

        // when the Secret is deleted (the link dangles), then the token stays and that is counted once too
        Files.delete(token.getParent().resolve("..data"));
        sink.publish(SampleAlerts.full(), 1);
        sink.publish(SampleAlerts.full(), 1);
        assertThat(splunk.next(WAIT).header("Authorization")).isEqualTo("Splunk 22222222-aaaa-bbbb-cccc-000000000002");
        assertThat(splunk.next(WAIT).header("Authorization")).isEqualTo("Splunk 22222222-aaaa-bbbb-cccc-000000000002");
        assertThat(headerReloads("failed")).isEqualTo(2);

        // when a good Secret is back, its token is used
        rotateSecret(token.getParent(), "..v4", "hec-token", "44444444-aaaa-bbbb-cccc-000000000004");
        sink.publish(SampleAlerts.full(), 1);
        assertThat(splunk.next(WAIT).header("Authorization")).isEqualTo("Splunk 44444444-aaaa-bbbb-cccc-000000000004");
        assertThat(headerReloads("reloaded")).isEqualTo(2);

        // and no token, old, new or broken, was ever logged (the sink logged at DEBUG throughout)
        sink.close();
        assertThat(logs.list).isNotEmpty();
        assertThat(allLogs()).doesNotContain("11111111-aaaa").doesNotContain("22222222-aaaa").doesNotContain("3333cafe").doesNotContain("44444444-aaaa")
                .contains(token.toString());
        assertThat(headers.toString()).doesNotContain("11111111").contains("{{file:" + token + "}}");
    }

    @Test
    void bearerTokenOverTlsToAPrivateCaIsTrustedOnlyThroughTheCaBundle() throws Exception {
        // given an HTTPS receiver whose certificate a private CA signed, and the CA's PEM bundle
        LoopbackReceiver.PrivateCa ca = new LoopbackReceiver.PrivateCa(dir);
        LoopbackReceiver receiver = closing(LoopbackReceiver.https(ca));
        Path token = Files.writeString(dir.resolve("token"), "eyJhbGciOi.bearer.token\n");
        WebhookHeaders headers = WebhookHeaders.load(List.of("Authorization: Bearer {{file:" + token + "}}"));

        // when one sink trusts the CA bundle and another the JDK's CAs
        sink(WebhookSettings.of(receiver.endpoint()).withHeaders(headers)
                .withSslContext(WebhookTls.trustingCaFile(ca.caPem))).publish(SampleAlerts.full(), 1);
        WebhookSink jdkTrust = closing(new WebhookSink("jdk-trust", WebhookSettings.of(receiver.endpoint())
                .withRetries(1, Duration.ofMillis(10), Duration.ofMillis(10)).withHeaders(headers), registry,
                Clock.systemUTC()));
        jdkTrust.publish(SampleAlerts.full(), 1);

        // then the request through the CA arrives with its token; the other never does
        assertThat(receiver.next(WAIT).header("Authorization")).isEqualTo("Bearer eyJhbGciOi.bearer.token");
        awaitMetric(() -> registry.get("drift.webhook.deliveries").tag("sink", "jdk-trust").tag("result", "exhausted")
                .counter().count(), 1);
        assertThat(receiver.nothingReceived()).isTrue();
    }

    @Test
    void headerConfigurationErrorsNameTheHeaderOrFileButNeverTheValue() throws Exception {
        Path missing = dir.resolve("absent");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("Authorization: ApiKey {{file:" + missing + "}}")))
                .isInstanceOf(IOException.class).hasMessageContaining(missing.toString());
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("Authorization: ApiKey {{file:" + empty + "}}")))
                .isInstanceOf(IOException.class).hasMessageContaining("is empty");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("Host: evil.example")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Host");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("X-Drift-Signature: forged")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("X-Drift-Signature");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("X-A: 1", "x-a: 2")))
                .hasMessageContaining("configured twice");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("Bad Name: v")))
                .hasMessageContaining("not a valid header name");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("X-Key: {{file:relative/key}}")))
                .hasMessageContaining("absolute path");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("X-Key: {{env:KEY}}")))
                .hasMessageContaining("unknown placeholder");
        assertThatThrownBy(() -> WebhookHeaders.load(List.of("X-Key: s3cr\u00e9t-inline")))
                .hasMessageContaining("printable ASCII").hasMessageNotContaining("s3cr");
    }
}
