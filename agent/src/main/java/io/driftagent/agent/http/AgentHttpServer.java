package io.driftagent.agent.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code /healthz} (the process answers: 200), {@code /readyz} (200 when every {@link Readiness} check passes,
 * else 503 with a JSON body naming each failing check and why) and {@code /metrics} (Prometheus text from a
 * supplier): a small HTTP/1.1 server, GET and HEAD only, one request per connection.
 *
 * <p>Anyone who reaches the port is a client, so no client can hold the probes up: one selector thread reads every
 * connection without blocking and closes one that has not sent its whole request head within
 * {@link HttpSettings#headerTimeout()} or sends more than {@link HttpSettings#maxHeaderBytes()}; {@code /healthz} is
 * answered on that thread, {@code /readyz} and {@code /metrics} on a few worker threads with a bounded queue (full:
 * 503). At most {@link HttpSettings#maxConnections()} connections are held; a new one past that closes the oldest
 * connection still sending its request, so a flood of idle connections cannot lock a probe out. Every connection the
 * server closes before answering is counted by reason ({@link #closed(CloseReason)}). (The JDK's
 * {@code com.sun.net.httpserver} reads request heads on its worker threads with no deadline of its own: two idle
 * clients held both workers and the probes timed out.)
 */
public final class AgentHttpServer implements AutoCloseable {

    public static final String METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Logger LOG = LoggerFactory.getLogger(AgentHttpServer.class);
    private static final String TEXT = "text/plain; charset=utf-8";
    /** every connection the server holds may wait for a worker: the connection cap is the bound, not this queue */
    private static final int WORKER_QUEUE = HttpSettings.DEFAULT_MAX_CONNECTIONS;
    private static final int BACKLOG = 128;
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Set<String> PATHS = Set.of("/healthz", "/readyz", "/metrics");

    /** Why the server closed a connection without a complete answer. */
    public enum CloseReason {
        /** the request head did not arrive within the header timeout */
        HEADER_TIMEOUT("header_timeout"),
        /** the request head was larger than allowed (answered 431) */
        HEADER_TOO_LARGE("header_too_large"),
        /** the request line was not HTTP/1.x (answered 400) */
        BAD_REQUEST("bad_request"),
        /** closed to make room: the oldest connection still sending its request when the limit was reached */
        CONNECTION_LIMIT("connection_limit"),
        /** the workers' queue was full (answered 503) */
        BUSY("busy"),
        /** the answer was not computed or not read within the write timeout */
        WRITE_TIMEOUT("write_timeout");

        private final String tag;

        CloseReason(String tag) {
            this.tag = tag;
        }

        /** The metric tag value. */
        public String tag() {
            return tag;
        }
    }

    private final HttpSettings settings;
    private final Readiness readiness;
    private final Supplier<String> metrics;
    private final JsonMapper json = JsonMapper.builder().build();
    private final Map<CloseReason, AtomicLong> closed = new EnumMap<>(CloseReason.class);
    private volatile MeterRegistry closedRegistry;
    private final AtomicInteger open = new AtomicInteger();
    private final Queue<Connection> answered = new ConcurrentLinkedQueue<>();

    private ServerSocketChannel listener;
    private Selector selector;
    private ThreadPoolExecutor workers;
    private Thread loop;
    private volatile boolean running;

    /**
     * @param bindAddress an IP address literal
     * @param port        0 for an ephemeral port (see {@link #port()})
     * @param metrics     the Prometheus exposition, e.g. {@code PrometheusMeterRegistry::scrape}
     */
    public AgentHttpServer(String bindAddress, int port, Readiness readiness, Supplier<String> metrics) {
        this(HttpSettings.of(bindAddress, port), readiness, metrics);
    }

    public AgentHttpServer(HttpSettings settings, Readiness readiness, Supplier<String> metrics) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        for (CloseReason reason : CloseReason.values()) {
            closed.put(reason, new AtomicLong());
        }
    }

    public synchronized void start() throws IOException {
        if (listener != null) {
            throw new IllegalStateException("already started");
        }
        Selector createdSelector = Selector.open();
        ServerSocketChannel created = ServerSocketChannel.open();
        try {
            created.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            created.bind(new InetSocketAddress(settings.bindAddress(), settings.port()), BACKLOG);
            created.configureBlocking(false);
            created.register(createdSelector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            created.close();
            createdSelector.close();
            throw e;
        }
        AtomicInteger threads = new AtomicInteger();
        workers = new ThreadPoolExecutor(settings.workers(), settings.workers(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(WORKER_QUEUE), r -> {
                    Thread t = new Thread(r, "drift-http-worker-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        listener = created;
        selector = createdSelector;
        running = true;
        loop = new Thread(this::run, "drift-http");
        loop.setDaemon(true);
        loop.start();
        LOG.info("HTTP endpoints on {}:{}", settings.bindAddress(), port());
    }

    /** The bound port (the ephemeral one when 0 was asked for). */
    public synchronized int port() {
        if (listener == null) {
            throw new IllegalStateException("not started");
        }
        return listener.socket().getLocalPort();
    }

    /** Connections the server closed for {@code reason} since it started. */
    public long closed(CloseReason reason) {
        return closed.get(reason).get();
    }

    /**
     * {@code drift.http.connections.closed{reason}} (connections closed before a complete answer) and
     * {@code drift.http.connections} (held now).
     */
    public void registerMetrics(MeterRegistry registry) {
        closedRegistry = registry;
        for (CloseReason reason : CloseReason.values()) {
            if (closed(reason) > 0) {
                registerClosed(reason);
            }
        }
        Gauge.builder("drift.http.connections", this, AgentHttpServer::openConnections)
                .description("HTTP connections held").register(registry);
    }

    private void registerClosed(CloseReason reason) {
        FunctionCounter.builder("drift.http.connections.closed", this, s -> s.closed(reason))
                .tag("reason", reason.tag())
                .description("HTTP connections closed by the server before a complete answer")
                .register(closedRegistry);
    }

    /** Connections held now. */
    public int openConnections() {
        return open.get();
    }

    @Override
    public synchronized void close() {
        if (listener == null) {
            return;
        }
        running = false;
        selector.wakeup();
        try {
            loop.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("closing the HTTP listener failed", e);
        }
        listener = null;
    }

    // ---- the selector thread ----

    private void run() {
        Set<Connection> connections = new LinkedHashSet<>(); // in accept order: the first READING one is the oldest
        try {
            while (running) {
                long now = System.nanoTime();
                long wait = Math.max(1, Math.min(1_000, TimeUnit.NANOSECONDS.toMillis(nextDeadline(connections, now) - now) + 1));
                selector.select(wait);
                Connection ready;
                while ((ready = answered.poll()) != null) {
                    if (ready.channel.isOpen()) {
                        startWriting(ready);
                    }
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        acceptAll(connections);
                    } else {
                        Connection connection = (Connection) key.attachment();
                        try {
                            if (key.isReadable()) {
                                read(connection);
                            } else if (key.isWritable()) {
                                write(connection);
                            }
                        } catch (RuntimeException e) {
                            LOG.warn("HTTP connection failed; closing it", e);
                            closeQuietly(connection);
                        }
                    }
                }
                expire(connections, System.nanoTime());
                connections.removeIf(c -> !c.channel.isOpen());
                open.set(connections.size());
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                LOG.error("HTTP server loop failed; the endpoints stop answering", e);
            }
        } finally {
            for (Connection connection : connections) {
                closeQuietly(connection);
            }
            open.set(0);
            try {
                selector.close();
            } catch (IOException e) {
                LOG.debug("closing the HTTP selector failed", e);
            }
        }
    }

    private static long nextDeadline(Set<Connection> connections, long now) {
        long next = now + TimeUnit.SECONDS.toNanos(1);
        for (Connection connection : connections) {
            if (connection.deadline - next < 0) {
                next = connection.deadline;
            }
        }
        return next;
    }

    private void acceptAll(Set<Connection> connections) throws IOException {
        SocketChannel accepted;
        while ((accepted = listener.accept()) != null) {
            connections.removeIf(c -> !c.channel.isOpen());
            if (connections.size() >= settings.maxConnections()) {
                Connection oldest = null;
                for (Connection c : connections) {
                    if (c.state == State.READING) {
                        oldest = c;
                        break;
                    }
                }
                if (oldest == null) {
                    // every held connection is being answered: the new one waits for none of them
                    count(CloseReason.CONNECTION_LIMIT);
                    accepted.close();
                    continue;
                }
                count(CloseReason.CONNECTION_LIMIT);
                closeQuietly(oldest);
                connections.remove(oldest);
            }
            try {
                accepted.configureBlocking(false);
                Connection connection = new Connection(accepted, settings.maxHeaderBytes(),
                        System.nanoTime() + settings.headerTimeout().toNanos());
                connection.key = accepted.register(selector, SelectionKey.OP_READ, connection);
                connections.add(connection);
            } catch (IOException e) {
                accepted.close();
                LOG.debug("could not register an HTTP connection", e);
            }
        }
    }

    private void read(Connection connection) {
        int n;
        try {
            n = connection.channel.read(connection.in);
        } catch (IOException e) {
            closeQuietly(connection);
            return;
        }
        if (n < 0) {
            closeQuietly(connection); // the client left (or finished reading a lingering answer)
            return;
        }
        if (connection.state != State.READING) {
            connection.in.clear(); // lingering after the answer: discard what the client still sends
            return;
        }
        int headEnd = headEnd(connection.in);
        if (headEnd < 0) {
            if (!connection.in.hasRemaining()) {
                count(CloseReason.HEADER_TOO_LARGE);
                answer(connection, false, new Response(431, "Request Header Fields Too Large", TEXT,
                        "request head larger than " + settings.maxHeaderBytes() + " bytes\n", Map.of()));
            }
            return;
        }
        dispatch(connection, new String(connection.in.array(), 0, headEnd, StandardCharsets.ISO_8859_1));
    }

    /** The length of the request head up to its first line break, or -1 while the blank line has not arrived. */
    private static int headEnd(ByteBuffer in) {
        byte[] bytes = in.array();
        int end = in.position();
        for (int i = 0; i < end; i++) {
            if (bytes[i] == '\n' && ((i + 1 < end && bytes[i + 1] == '\n')
                    || (i + 2 < end && bytes[i + 1] == '\r' && bytes[i + 2] == '\n'))) {
                int lineEnd = 0;
                while (bytes[lineEnd] != '\n') {
                    lineEnd++;
                }
                return lineEnd;
            }
        }
        return -1;
    }

    private void dispatch(Connection connection, String requestLine) {
        String line = requestLine.endsWith("\r") ? requestLine.substring(0, requestLine.length() - 1) : requestLine;
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || parts[0].isEmpty() || !parts[2].startsWith("HTTP/1.")) {
            count(CloseReason.BAD_REQUEST);
            answer(connection, false, new Response(400, "Bad Request", TEXT, "bad request\n", Map.of()));
            return;
        }
        String method = parts[0];
        boolean head = method.equals("HEAD");
        int query = parts[1].indexOf('?');
        String path = query < 0 ? parts[1] : parts[1].substring(0, query);
        if (!PATHS.contains(path)) {
            answer(connection, head, new Response(404, "Not Found", TEXT, "not found\n", Map.of()));
        } else if (!method.equals("GET") && !head) {
            answer(connection, false, new Response(405, "Method Not Allowed", TEXT, "method not allowed\n",
                    Map.of("Allow", "GET, HEAD")));
        } else if (path.equals("/healthz")) {
            answer(connection, head, new Response(200, "OK", TEXT, "ok\n", Map.of()));
        } else {
            connection.state = State.COMPUTING;
            connection.deadline = System.nanoTime() + settings.writeTimeout().toNanos();
            connection.key.interestOps(0);
            try {
                workers.execute(() -> {
                    Response response = path.equals("/readyz") ? readyz() : metrics();
                    connection.out = response.encode(head);
                    answered.add(connection);
                    selector.wakeup();
                });
            } catch (RejectedExecutionException e) {
                count(CloseReason.BUSY);
                answer(connection, head, new Response(503, "Service Unavailable", TEXT, "busy\n", Map.of()));
            }
        }
    }

    private void answer(Connection connection, boolean head, Response response) {
        connection.out = response.encode(head);
        startWriting(connection);
    }

    private void startWriting(Connection connection) {
        connection.state = State.WRITING;
        connection.deadline = System.nanoTime() + settings.writeTimeout().toNanos();
        try {
            connection.key.interestOps(SelectionKey.OP_WRITE);
        } catch (RuntimeException e) {
            closeQuietly(connection);
            return;
        }
        write(connection);
    }

    private void write(Connection connection) {
        try {
            connection.channel.write(connection.out);
            if (!connection.out.hasRemaining()) {
                // half-close and read until the client closes, so that unread request bytes do not turn the close
                // into a reset that could destroy the answer in flight
                connection.channel.shutdownOutput();
                connection.state = State.LINGERING;
                connection.deadline = System.nanoTime() + LINGER_NANOS;
                connection.in.clear();
                connection.key.interestOps(SelectionKey.OP_READ);
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(connection);
        }
    }

    private void expire(Set<Connection> connections, long now) {
        for (Connection connection : connections) {
            if (connection.channel.isOpen() && now - connection.deadline >= 0) {
                switch (connection.state) {
                    case READING -> count(CloseReason.HEADER_TIMEOUT);
                    case COMPUTING, WRITING -> count(CloseReason.WRITE_TIMEOUT);
                    case LINGERING -> { }
                }
                closeQuietly(connection);
            }
        }
    }

    private void count(CloseReason reason) {
        long total = closed.get(reason).incrementAndGet();
        if (total == 1 && closedRegistry != null) {
            // registered at first use: six always-zero series per node are not worth a scrape's cost
            registerClosed(reason);
        }
        LOG.debug("HTTP connection closed: {} ({} so far)", reason.tag(), total);
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.channel.close();
        } catch (IOException e) {
            LOG.debug("closing an HTTP connection failed", e);
        }
    }

    // ---- the worker threads ----

    private Response readyz() {
        try {
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
            return new Response(ready ? 200 : 503, ready ? "OK" : "Service Unavailable", "application/json",
                    json.writeValueAsString(body) + "\n", Map.of());
        } catch (RuntimeException e) {
            LOG.warn("readiness evaluation failed", e);
            return new Response(500, "Internal Server Error", TEXT, "readiness unavailable\n", Map.of());
        }
    }

    private Response metrics() {
        try {
            return new Response(200, "OK", METRICS_CONTENT_TYPE, metrics.get(), Map.of());
        } catch (RuntimeException e) {
            LOG.warn("metrics scrape failed", e);
            return new Response(500, "Internal Server Error", TEXT, "metrics unavailable\n", Map.of());
        }
    }

    private enum State { READING, COMPUTING, WRITING, LINGERING }

    /** One client connection; touched by the selector thread only, except {@code out}, handed over by a worker. */
    private static final class Connection {
        final SocketChannel channel;
        final ByteBuffer in;
        SelectionKey key;
        volatile ByteBuffer out;
        State state = State.READING;
        long deadline;

        Connection(SocketChannel channel, int maxHeaderBytes, long deadline) {
            this.channel = channel;
            this.in = ByteBuffer.allocate(maxHeaderBytes);
            this.deadline = deadline;
        }
    }

    private record Response(int status, String reason, String contentType, String body, Map<String, String> headers) {
        ByteBuffer encode(boolean head) {
            byte[] content = body.getBytes(StandardCharsets.UTF_8);
            StringBuilder text = new StringBuilder(128)
                    .append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n")
                    .append("Content-Type: ").append(contentType).append("\r\n")
                    .append("Content-Length: ").append(content.length).append("\r\n")
                    .append("Connection: close\r\n");
            headers.forEach((name, value) -> text.append(name).append(": ").append(value).append("\r\n"));
            text.append("\r\n");
            byte[] start = text.toString().getBytes(StandardCharsets.ISO_8859_1);
            ByteBuffer buffer = ByteBuffer.allocate(start.length + (head ? 0 : content.length));
            buffer.put(start);
            if (!head) {
                buffer.put(content);
            }
            return buffer.flip();
        }
    }
}
