package io.driftagent.reporter.webhook;

import io.driftagent.reporter.json.AlertEncoder;
import io.driftagent.reporter.json.AlertJson;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * How to reach one webhook endpoint.
 *
 * @param endpoint       http or https URI the alerts are POSTed to
 * @param connectTimeout TCP + TLS connect limit
 * @param requestTimeout limit for one whole request (send + response headers)
 * @param maxAttempts    attempts per alert, including the first (>= 1)
 * @param initialBackoff delay before the first retry; doubles per retry, with jitter, up to {@code maxBackoff}
 * @param maxBackoff     cap of one retry delay
 * @param queueCapacity  alerts waiting for delivery; beyond that new alerts are dropped and counted
 * @param hmacSecret     when non-null, every request carries an HMAC-SHA256 signature (see docs/alerts.md)
 * @param sslContext     when non-null, trusts what it trusts instead of the JDK's default CAs (see {@link WebhookTls})
 * @param closeTimeout   how long {@code close()} keeps delivering what is queued
 * @param headers        custom headers (tokens from files); {@link WebhookHeaders#NONE} for none
 * @param body           what one alert's request body is: drift-agent's JSON (default), Falco's, or a
 *                       {@link BodyTemplate}
 */
public record WebhookSettings(URI endpoint, Duration connectTimeout, Duration requestTimeout, int maxAttempts,
                              Duration initialBackoff, Duration maxBackoff, int queueCapacity, byte[] hmacSecret,
                              SSLContext sslContext, Duration closeTimeout, WebhookHeaders headers,
                              AlertEncoder body) {

    public WebhookSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        String scheme = endpoint.getScheme();
        if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("webhook endpoint must be http or https: " + endpoint);
        }
        requirePositive(connectTimeout, "connectTimeout");
        requirePositive(requestTimeout, "requestTimeout");
        requirePositive(initialBackoff, "initialBackoff");
        requirePositive(maxBackoff, "maxBackoff");
        requirePositive(closeTimeout, "closeTimeout");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1: " + maxAttempts);
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queueCapacity must be >= 1: " + queueCapacity);
        }
        if (hmacSecret != null) {
            if (hmacSecret.length == 0) {
                throw new IllegalArgumentException("hmacSecret must not be empty");
            }
            hmacSecret = hmacSecret.clone();
        }
    }

    /**
     * Defaults: 2 s connect, 5 s request, 4 attempts, 200 ms..5 s backoff, 1000 queued, no signature, JDK trust, no
     * custom header, drift-agent's JSON body.
     */
    public static WebhookSettings of(URI endpoint) {
        return new WebhookSettings(endpoint, Duration.ofSeconds(2), Duration.ofSeconds(5), 4, Duration.ofMillis(200),
                Duration.ofSeconds(5), 1000, null, null, Duration.ofSeconds(5), WebhookHeaders.NONE, new AlertJson());
    }

    public WebhookSettings withTimeouts(Duration connect, Duration request) {
        return new WebhookSettings(endpoint, connect, request, maxAttempts, initialBackoff, maxBackoff, queueCapacity,
                hmacSecret, sslContext, closeTimeout, headers, body);
    }

    public WebhookSettings withRetries(int attempts, Duration initial, Duration max) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, attempts, initial, max, queueCapacity,
                hmacSecret, sslContext, closeTimeout, headers, body);
    }

    public WebhookSettings withQueueCapacity(int capacity) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, maxAttempts, initialBackoff, maxBackoff,
                capacity, hmacSecret, sslContext, closeTimeout, headers, body);
    }

    public WebhookSettings withHmacSecret(byte[] secret) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, maxAttempts, initialBackoff, maxBackoff,
                queueCapacity, secret, sslContext, closeTimeout, headers, body);
    }

    public WebhookSettings withSslContext(SSLContext context) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, maxAttempts, initialBackoff, maxBackoff,
                queueCapacity, hmacSecret, context, closeTimeout, headers, body);
    }

    public WebhookSettings withCloseTimeout(Duration timeout) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, maxAttempts, initialBackoff, maxBackoff,
                queueCapacity, hmacSecret, sslContext, timeout, headers, body);
    }

    public WebhookSettings withHeaders(WebhookHeaders customHeaders) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, maxAttempts, initialBackoff, maxBackoff,
                queueCapacity, hmacSecret, sslContext, closeTimeout, customHeaders, body);
    }

    public WebhookSettings withBody(AlertEncoder encoder) {
        return new WebhookSettings(endpoint, connectTimeout, requestTimeout, maxAttempts, initialBackoff, maxBackoff,
                queueCapacity, hmacSecret, sslContext, closeTimeout, headers, encoder);
    }

    @Override
    public byte[] hmacSecret() {
        return hmacSecret == null ? null : hmacSecret.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WebhookSettings other && endpoint.equals(other.endpoint)
                && connectTimeout.equals(other.connectTimeout) && requestTimeout.equals(other.requestTimeout)
                && maxAttempts == other.maxAttempts && initialBackoff.equals(other.initialBackoff)
                && maxBackoff.equals(other.maxBackoff) && queueCapacity == other.queueCapacity
                && Arrays.equals(hmacSecret, other.hmacSecret) && Objects.equals(sslContext, other.sslContext)
                && closeTimeout.equals(other.closeTimeout) && headers.equals(other.headers) && body.equals(other.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(endpoint, connectTimeout, requestTimeout, maxAttempts, queueCapacity);
    }

    @Override
    public String toString() {
        // never print the secret
        return "WebhookSettings[endpoint=" + endpoint + ", connectTimeout=" + connectTimeout + ", requestTimeout="
                + requestTimeout + ", maxAttempts=" + maxAttempts + ", backoff=" + initialBackoff + ".." + maxBackoff
                + ", queueCapacity=" + queueCapacity + ", signed=" + (hmacSecret != null) + ", customTls="
                + (sslContext != null) + ", headers=" + headers + ", body=" + body.getClass().getSimpleName() + "]";
    }

    private static void requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }
}
