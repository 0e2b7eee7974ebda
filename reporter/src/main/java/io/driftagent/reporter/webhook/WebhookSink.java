package io.driftagent.reporter.webhook;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.dispatch.AlertSink;
import io.driftagent.reporter.json.AlertEncoder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs each alert to one endpoint: by default the same JSON object as a JSON line ({@code Content-Type:
 * application/json}); or Falco's payload, or a body template ({@link WebhookSettings#body()}), with custom headers
 * whose values may come from files read again when they change ({@link WebhookHeaders}).
 *
 * <p>{@link #publish} only serializes and enqueues: delivery runs on the sink's own thread with its own bounded
 * queue, so a slow, failing or hanging endpoint costs the caller nothing (a full queue drops and counts). Each
 * request has connect and request timeouts; 5xx, 429 and I/O errors are retried up to {@code maxAttempts} with
 * exponential backoff and jitter; other statuses are final. Redirects are not followed.
 *
 * <p>Metrics: {@code drift.webhook.deliveries{sink,result=delivered|rejected|exhausted|abandoned}},
 * {@code drift.webhook.retries{sink}}, {@code drift.webhook.dropped{sink,reason=queue_full|closed}},
 * {@code drift.webhook.queue.depth{sink}}, {@code drift.webhook.header.reloads{sink,result=reloaded|failed}} (a
 * header file read again with a new value, or found unreadable or invalid: the last good value is kept).
 */
public final class WebhookSink implements AlertSink {

    private static final Logger log = LoggerFactory.getLogger(WebhookSink.class);
    /** Queued at close so an idle worker wakes at once (compared by identity). */
    private static final byte[] WAKE_UP = new byte[0];

    private final String name;
    private final WebhookSettings settings;
    private final Clock clock;
    private final HttpClient client;
    private final WebhookSignature signature;
    private final AlertEncoder body;
    private final WebhookHeaders headers;
    private final WebhookHeaders.Listener headerFiles;
    private final BlockingQueue<byte[]> queue;
    private final Thread worker;
    private final Counter delivered;
    private final Counter rejected;
    private final Counter exhausted;
    private final Counter abandoned;
    private final Counter retries;
    private final Counter droppedQueueFull;
    private final Counter droppedClosed;
    private final Counter headerReloaded;
    private final Counter headerFailed;
    private volatile boolean closing;

    public WebhookSink(String name, WebhookSettings settings, MeterRegistry registry, Clock clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout()).followRedirects(HttpClient.Redirect.NEVER);
        if (settings.sslContext() != null) {
            builder.sslContext(settings.sslContext());
        }
        this.client = builder.build();
        byte[] secret = settings.hmacSecret();
        this.signature = secret == null ? null : new WebhookSignature(secret);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.body = settings.body();
        this.headers = settings.headers();
        this.headerReloaded = headerReloads(registry, "reloaded");
        this.headerFailed = headerReloads(registry, "failed");
        this.headerFiles = new WebhookHeaders.Listener() {
            @Override
            public void reloaded(Path file) {
                headerReloaded.increment();
                log.info("webhook {}: header file {} changed, using its new value", name, file);
            }

            @Override
            public void failed(Path file, String reason) {
                headerFailed.increment();
                log.warn("webhook {}: header file unusable, keeping its last good value: {}", name, reason);
            }
        };
        this.delivered = delivery(registry, "delivered");
        this.rejected = delivery(registry, "rejected");
        this.exhausted = delivery(registry, "exhausted");
        this.abandoned = delivery(registry, "abandoned");
        this.retries = Counter.builder("drift.webhook.retries").description("Webhook requests retried")
                .tag("sink", name).register(registry);
        this.droppedQueueFull = dropped(registry, "queue_full");
        this.droppedClosed = dropped(registry, "closed");
        Gauge.builder("drift.webhook.queue.depth", queue, BlockingQueue::size)
                .description("Alerts waiting for webhook delivery").tag("sink", name).register(registry);
        this.worker = new Thread(this::run, "drift-webhook-" + name);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    private Counter delivery(MeterRegistry registry, String result) {
        return Counter.builder("drift.webhook.deliveries").description("Webhook deliveries, by final result")
                .tag("sink", name).tag("result", result).register(registry);
    }

    private Counter headerReloads(MeterRegistry registry, String result) {
        return Counter.builder("drift.webhook.header.reloads")
                .description("Webhook header files read again: a new value, or unusable (last good value kept)")
                .tag("sink", name).tag("result", result).register(registry);
    }

    private Counter dropped(MeterRegistry registry, String reason) {
        return Counter.builder("drift.webhook.dropped").description("Alerts never sent to the webhook")
                .tag("sink", name).tag("reason", reason).register(registry);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void publish(Alert alert) {
        publish(alert, 1);
    }

    /** Never blocks on the network. */
    @Override
    public void publish(Alert alert, int count) {
        if (closing) {
            droppedClosed.increment();
            return;
        }
        if (!queue.offer(body.encode(alert, count))) {
            droppedQueueFull.increment();
            log.debug("webhook {} queue full, dropped alert {}", name, alert.id());
        }
    }

    private void run() {
        while (!closing || !queue.isEmpty()) {
            byte[] body;
            try {
                body = queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (body != null && body != WAKE_UP && !deliver(body)) {
                break;
            }
        }
        queue.remove(WAKE_UP);
        droppedClosed.increment(queue.size());
        queue.clear();
    }

    /** Returns false when interrupted (closing). */
    private boolean deliver(byte[] body) {
        for (int attempt = 1; ; attempt++) {
            Integer status = null;
            try {
                HttpResponse<Void> response = client.send(request(body), HttpResponse.BodyHandlers.discarding());
                status = response.statusCode();
                if (status >= 200 && status < 300) {
                    delivered.increment();
                    return true;
                }
                if (status < 500 && status != 429) {
                    rejected.increment();
                    log.warn("webhook {} rejected an alert with HTTP {}; not retried", name, status);
                    return true;
                }
            } catch (IOException e) {
                log.debug("webhook {} attempt {} failed", name, attempt, e);
            } catch (InterruptedException e) {
                abandoned.increment();
                return false;
            }
            if (attempt >= settings.maxAttempts()) {
                exhausted.increment();
                log.warn("webhook {} gave up on an alert after {} attempts (last status {})", name, attempt, status);
                return true;
            }
            retries.increment();
            try {
                Thread.sleep(backoffMillis(attempt));
            } catch (InterruptedException e) {
                abandoned.increment();
                return false;
            }
        }
    }

    private HttpRequest request(byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(settings.endpoint())
                .timeout(settings.requestTimeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "drift-agent")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        // after the defaults: a configured Content-Type or User-Agent replaces them
        for (Map.Entry<String, String> header : headers.resolve(headerFiles).entrySet()) {
            request.setHeader(header.getKey(), header.getValue());
        }
        if (signature != null) {
            long now = clock.instant().getEpochSecond();
            request.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(now));
            request.header(WebhookSignature.SIGNATURE_HEADER, signature.sign(now, body));
        }
        return request.build();
    }

    /** Exponential with "equal jitter": half the capped delay fixed, half random, so retries spread out. */
    private long backoffMillis(int attempt) {
        long initial = settings.initialBackoff().toMillis();
        long cap = Math.min(settings.maxBackoff().toMillis(), initial << Math.min(attempt - 1, 20));
        long half = Math.max(1, cap / 2);
        return half + ThreadLocalRandom.current().nextLong(half + 1);
    }

    /** Delivers what is queued for up to the close timeout, then abandons the rest (counted). */
    @Override
    public void close() {
        closing = true;
        queue.offer(WAKE_UP);
        try {
            worker.join(settings.closeTimeout().toMillis());
            if (worker.isAlive()) {
                worker.interrupt();
                worker.join(1_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
