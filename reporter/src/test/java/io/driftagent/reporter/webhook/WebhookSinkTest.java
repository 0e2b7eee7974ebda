package io.driftagent.reporter.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.dispatch.AlertDispatcher;
import io.driftagent.reporter.json.AlertJson;
import io.driftagent.reporter.json.JsonLinesSink;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class WebhookSinkTest {

    private static final byte[] SECRET = "s3cret-shared-with-the-receiver".getBytes(StandardCharsets.UTF_8);

    private record Received(byte[] body, String timestamp, String signature, String contentType) {
    }

    @TempDir
    Path dir;

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final CountDownLatch releaseHangs = new CountDownLatch(1);
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private HttpServer server;

    @AfterEach
    void tearDown() throws Exception {
        releaseHangs.countDown();
        for (AutoCloseable c : toClose) {
            c.close();
        }
        if (server != null) {
            server.stop(0);
        }
    }

    /** Serves each request with the next status; the last one repeats. */
    private URI serve(HttpServer http, int... statuses) {
        AtomicInteger calls = new AtomicInteger();
        http.createContext("/hook", exchange -> {
            received.add(read(exchange));
            int status = statuses[Math.min(calls.getAndIncrement(), statuses.length - 1)];
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        http.setExecutor(Executors.newFixedThreadPool(2));
        http.start();
        server = http;
        String scheme = http instanceof HttpsServer ? "https" : "http";
        return URI.create(scheme + "://127.0.0.1:" + http.getAddress().getPort() + "/hook");
    }

    private static Received read(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            return new Received(in.readAllBytes(), exchange.getRequestHeaders().getFirst("X-Drift-Timestamp"),
                    exchange.getRequestHeaders().getFirst("X-Drift-Signature"),
                    exchange.getRequestHeaders().getFirst("Content-Type"));
        }
    }

    private WebhookSink sink(WebhookSettings settings) {
        WebhookSink sink = new WebhookSink("hook", settings, registry, Clock.systemUTC());
        toClose.add(sink);
        return sink;
    }

    private double deliveries(String result) {
        return registry.get("drift.webhook.deliveries").tag("sink", "hook").tag("result", result).counter().count();
    }

    @Test
    void receiverGetsTheAlertJsonWithAValidSignature() throws Exception {
        // given
        URI endpoint = serve(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), 200);
        WebhookSink sink = sink(WebhookSettings.of(endpoint).withHmacSecret(SECRET));
        Alert alert = SampleAlerts.full();

        // when
        sink.publish(alert);

        // then
        Received request = received.poll(5, TimeUnit.SECONDS);
        assertThat(request).isNotNull();
        assertThat(request.body()).isEqualTo(new AlertJson().toBytes(alert, 1));
        assertThat(request.contentType()).isEqualTo("application/json");
        assertThat(Long.parseLong(request.timestamp())).isCloseTo(System.currentTimeMillis() / 1000, within(5L));
        WebhookSignature receiverSide = new WebhookSignature(SECRET);
        assertThat(receiverSide.verify(request.timestamp(), request.body(), request.signature())).isTrue();
        // a replay with a fresh timestamp or a tampered body does not verify
        assertThat(receiverSide.verify(Long.toString(Long.parseLong(request.timestamp()) + 60), request.body(),
                request.signature())).isFalse();
        byte[] tampered = request.body().clone();
        tampered[10] ^= 1;
        assertThat(receiverSide.verify(request.timestamp(), tampered, request.signature())).isFalse();
        assertThat(new WebhookSignature("other".getBytes(StandardCharsets.UTF_8))
                .verify(request.timestamp(), request.body(), request.signature())).isFalse();
    }

    @Test
    void serverErrorIsRetriedWithBackoffUntilItSucceeds() throws Exception {
        // given an endpoint failing once with 500
        URI endpoint = serve(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), 500, 200);
        WebhookSink sink = sink(WebhookSettings.of(endpoint).withRetries(3, Duration.ofMillis(50), Duration.ofSeconds(1)));

        // when
        sink.publish(SampleAlerts.full());

        // then
        Received first = received.poll(5, TimeUnit.SECONDS);
        Received second = received.poll(5, TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        assertThat(second).isNotNull();
        assertThat(second.body()).isEqualTo(first.body());
        awaitMetric(() -> deliveries("delivered"), 1);
        assertThat(registry.get("drift.webhook.retries").counter().count()).isEqualTo(1);
    }

    @Test
    void clientErrorIsFinalAndPersistentServerErrorGivesUpAfterMaxAttempts() throws Exception {
        // given
        URI rejecting = serve(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), 400);
        WebhookSink sink = sink(WebhookSettings.of(rejecting).withRetries(3, Duration.ofMillis(10), Duration.ofMillis(20)));

        // when
        sink.publish(SampleAlerts.full());

        // then
        awaitMetric(() -> deliveries("rejected"), 1);
        assertThat(received).hasSize(1);
        server.stop(0);
        received.clear();

        URI failing = serve(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0), 503);
        WebhookSink failingSink = new WebhookSink("failing", WebhookSettings.of(failing)
                .withRetries(3, Duration.ofMillis(10), Duration.ofMillis(20)), registry, Clock.systemUTC());
        toClose.add(failingSink);
        failingSink.publish(SampleAlerts.full());
        awaitMetric(() -> registry.get("drift.webhook.deliveries").tag("sink", "failing").tag("result", "exhausted")
                .counter().count(), 1);
        assertThat(received).hasSize(3);
    }

    @Test
    void hangingEndpointChangesNothingForTheJsonSinkAndBoundsItsOwnBacklog() throws Exception {
        // given a webhook endpoint that never answers, next to a JSON lines sink that records when it writes
        HttpServer hanging = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hanging.createContext("/hook", exchange -> {
            try {
                releaseHangs.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        hanging.setExecutor(Executors.newCachedThreadPool());
        hanging.start();
        server = hanging;
        URI endpoint = URI.create("http://127.0.0.1:" + hanging.getAddress().getPort() + "/hook");
        WebhookSink webhook = new WebhookSink("hook", WebhookSettings.of(endpoint)
                .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30)).withQueueCapacity(10)
                .withCloseTimeout(Duration.ofMillis(200)), registry, Clock.systemUTC());
        List<Long> writeTimes = new CopyOnWriteArrayList<>();
        OutputStream timedOut = new OutputStream() {
            private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

            @Override
            public void write(int b) {
                bytes.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                bytes.write(b, off, len);
                writeTimes.add(System.nanoTime());
            }
        };
        AlertDispatcher dispatcher = new AlertDispatcher(
                List.of(webhook, new JsonLinesSink("json", timedOut, true)), 256, Duration.ofSeconds(2), registry,
                Clock.systemUTC());

        // when 100 alerts arrive
        List<Long> lagsMicros = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            long submitted = System.nanoTime();
            assertThat(dispatcher.submit(SampleAlerts.full())).isTrue();
            long deadline = submitted + TimeUnit.SECONDS.toNanos(2);
            while (writeTimes.size() <= i && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(writeTimes).hasSizeGreaterThan(i);
            lagsMicros.add(TimeUnit.NANOSECONDS.toMicros(writeTimes.get(i) - submitted));
        }

        // then every JSON line was written within a few ms, and the webhook backlog stayed bounded, drops counted
        lagsMicros.sort(null);
        LoggerFactory.getLogger(WebhookSinkTest.class).info(
                "JSON sink submit-to-write lag with a hanging webhook: p50 {} us, p99 {} us, max {} us",
                lagsMicros.get(49), lagsMicros.get(98), lagsMicros.get(99));
        // a blocked path would show the webhook's 30 s request timeout; the bounds leave room for a loaded CI box
        assertThat(lagsMicros.get(49)).as("median submit-to-write lag (us), all: %s", lagsMicros).isLessThan(5_000);
        assertThat(lagsMicros.get(98)).as("p99 submit-to-write lag (us), all: %s", lagsMicros).isLessThan(100_000);
        assertThat(lagsMicros.get(99)).as("worst submit-to-write lag (us), all: %s", lagsMicros).isLessThan(1_000_000);
        awaitMetric(() -> registry.get("drift.sink.alerts").tag("sink", "hook").tag("outcome", "published")
                .counter().count(), 100);
        assertThat(registry.get("drift.webhook.queue.depth").gauge().value()).isEqualTo(10);
        assertThat(registry.get("drift.webhook.dropped").tag("reason", "queue_full").counter().count())
                .isEqualTo(100 - 1 - 10);
        long closeStart = System.nanoTime();
        dispatcher.close(Duration.ofSeconds(3));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closeStart)).isLessThan(3_000);
    }

    @Test
    void httpsEndpointWithAPrivateCaIsTrustedOnlyThroughTheConfiguredCaFile() throws Exception {
        // given a self-signed certificate for 127.0.0.1, made with keytool
        Path keyStore = dir.resolve("server.p12");
        Path caPem = dir.resolve("ca.pem");
        char[] password = "changeit".toCharArray();
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore",
                keyStore.toString(), "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", keyStore.toString(), "-storepass",
                "changeit", "-file", caPem.toString());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        URI endpoint = serve(https, 200);

        // when one sink trusts the CA file and one uses the JDK's default trust
        WebhookSink trusting = sink(WebhookSettings.of(endpoint).withSslContext(WebhookTls.trustingCaFile(caPem)));
        WebhookSink untrusting = new WebhookSink("default-trust", WebhookSettings.of(endpoint)
                .withRetries(1, Duration.ofMillis(10), Duration.ofMillis(10)), registry, Clock.systemUTC());
        toClose.add(untrusting);
        trusting.publish(SampleAlerts.full());
        untrusting.publish(SampleAlerts.full());

        // then only the configured one gets through
        assertThat(received.poll(5, TimeUnit.SECONDS)).isNotNull();
        awaitMetric(() -> registry.get("drift.webhook.deliveries").tag("sink", "default-trust")
                .tag("result", "exhausted").counter().count(), 1);
        assertThat(received).isEmpty();
        awaitMetric(() -> deliveries("delivered"), 1);

        // and a PKCS12 trust store holding the CA works the same as the PEM file
        Path trustStore = dir.resolve("trust.p12");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-storetype", "PKCS12",
                "-keystore", trustStore.toString(), "-storepass", "changeit");
        WebhookSink viaStore = new WebhookSink("trust-store", WebhookSettings.of(endpoint)
                .withSslContext(WebhookTls.trustingStore(trustStore, password, "PKCS12")), registry, Clock.systemUTC());
        toClose.add(viaStore);
        viaStore.publish(SampleAlerts.full());
        assertThat(received.poll(5, TimeUnit.SECONDS)).isNotNull();
        awaitMetric(() -> registry.get("drift.webhook.deliveries").tag("sink", "trust-store")
                .tag("result", "delivered").counter().count(), 1);
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
    }

    private static void awaitMetric(DoubleSupplier value, double expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.getAsDouble() < expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(value.getAsDouble()).isEqualTo(expected);
    }
}
