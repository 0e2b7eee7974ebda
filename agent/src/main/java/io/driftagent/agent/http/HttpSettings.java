package io.driftagent.agent.http;

import java.time.Duration;
import java.util.Objects;

/**
 * How the agent's HTTP endpoints listen and what they tolerate from a client.
 *
 * @param bindAddress    an IP address literal to listen on
 * @param port           0 for an ephemeral port
 * @param headerTimeout  how long a connection may take to send its whole request head; then it is closed
 * @param writeTimeout   how long a client may take to read the response; then it is closed
 * @param maxConnections connections held at once; past it the oldest connection still sending its request is closed
 * @param maxHeaderBytes the largest request head (request line and headers) read; a larger one gets 431
 * @param workers        threads that compute {@code /readyz} and {@code /metrics} ({@code /healthz} needs none)
 */
public record HttpSettings(String bindAddress, int port, Duration headerTimeout, Duration writeTimeout,
                           int maxConnections, int maxHeaderBytes, int workers) {
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    public static final int DEFAULT_MAX_HEADER_BYTES = 8 * 1024;
    public static final int DEFAULT_WORKERS = 2;

    public HttpSettings {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(writeTimeout, "writeTimeout");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        if (headerTimeout.isNegative() || headerTimeout.isZero() || writeTimeout.isNegative() || writeTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        if (maxConnections < 1 || maxHeaderBytes < 64 || workers < 1) {
            throw new IllegalArgumentException("maxConnections and workers must be >= 1, maxHeaderBytes >= 64");
        }
    }

    /** The defaults above on {@code bindAddress:port}. */
    public static HttpSettings of(String bindAddress, int port) {
        return new HttpSettings(bindAddress, port, DEFAULT_HEADER_TIMEOUT, DEFAULT_WRITE_TIMEOUT,
                DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HEADER_BYTES, DEFAULT_WORKERS);
    }

    public HttpSettings withHeaderTimeout(Duration timeout) {
        return new HttpSettings(bindAddress, port, timeout, writeTimeout, maxConnections, maxHeaderBytes, workers);
    }

    public HttpSettings withMaxConnections(int max) {
        return new HttpSettings(bindAddress, port, headerTimeout, writeTimeout, max, maxHeaderBytes, workers);
    }
}
