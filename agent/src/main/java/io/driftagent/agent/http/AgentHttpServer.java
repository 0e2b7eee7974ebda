package io.driftagent.agent.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code /healthz} (the process answers: 200), {@code /readyz} (200 when every {@link Readiness} check passes,
 * else 503 with a JSON body naming each failing check and why) and {@code /metrics} (Prometheus text from a
 * supplier) on the JDK's built-in HTTP server: no extra dependency, two worker threads and a bounded queue
 * (when it is full the dispatcher thread serves the request itself, which slows accepting rather than growing).
 * GET and HEAD only; anything else is 404 or 405.
 */
public final class AgentHttpServer implements AutoCloseable {

    public static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Logger LOG = LoggerFactory.getLogger(AgentHttpServer.class);
    private static final int WORKERS = 2;
    private static final int QUEUE = 32;

    private final String bindAddress;
    private final int requestedPort;
    private final Readiness readiness;
    private final Supplier<String> metrics;
    private final JsonMapper json = JsonMapper.builder().build();
    private HttpServer server;
    private ThreadPoolExecutor executor;

    /**
     * @param bindAddress an IP address literal
     * @param port        0 for an ephemeral port (see {@link #port()})
     * @param metrics     the Prometheus exposition, e.g. {@code PrometheusMeterRegistry::scrape}
     */
    public AgentHttpServer(String bindAddress, int port, Readiness readiness, Supplier<String> metrics) {
        this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
        this.requestedPort = port;
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    public synchronized void start() throws IOException {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        HttpServer created = HttpServer.create(new InetSocketAddress(bindAddress, requestedPort), 16);
        AtomicInteger threads = new AtomicInteger();
        executor = new ThreadPoolExecutor(WORKERS, WORKERS, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "drift-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        created.setExecutor(executor);
        created.createContext("/", this::handle);
        created.start();
        server = created;
        LOG.info("HTTP endpoints on {}:{}", bindAddress, port());
    }

    /** The bound port (the ephemeral one when 0 was asked for). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("not started");
        }
        return server.getAddress().getPort();
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/healthz") && !path.equals("/readyz") && !path.equals("/metrics")) {
                respond(exchange, 404, "text/plain; charset=utf-8", "not found\n");
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
                return;
            }
            switch (path) {
                case "/healthz":
                    respond(exchange, 200, "text/plain; charset=utf-8", "ok\n");
                    break;
                case "/readyz":
                    readyz(exchange);
                    break;
                default:
                    metrics(exchange);
                    break;
            }
        } catch (RuntimeException e) {
            LOG.warn("HTTP handler failed", e);
        }
    }

    private void readyz(HttpExchange exchange) throws IOException {
        List<Readiness.Outcome> outcomes = readiness.evaluate();
        boolean ready = readiness.isReady(outcomes);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ready ? "ready" : "not ready");
        Map<String, Object> checks = new LinkedHashMap<>();
        for (Readiness.Outcome outcome : outcomes) {
            Map<String, Object> check = new LinkedHashMap<>();
            check.put("ready", outcome.result().ready());
            if (!outcome.result().ready()) {
                check.put("reason", outcome.result().reason());
            }
            checks.put(outcome.name(), check);
        }
        if (outcomes.isEmpty()) {
            body.put("reason", "no readiness checks registered yet");
        }
        body.put("checks", checks);
        respond(exchange, ready ? 200 : 503, "application/json", json.writeValueAsString(body) + "\n");
    }

    private void metrics(HttpExchange exchange) throws IOException {
        String text;
        try {
            text = metrics.get();
        } catch (RuntimeException e) {
            LOG.warn("metrics scrape failed", e);
            respond(exchange, 500, "text/plain; charset=utf-8", "metrics unavailable\n");
            return;
        }
        respond(exchange, 200, METRICS_CONTENT_TYPE, text);
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
