package io.driftagent.agent.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.driftagent.reporter.webhook.WebhookSignature;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A local webhook endpoint that records every request it gets, with its signature headers. It can be switched to
 * hang: requests are then held without an answer until {@link #answerAgain()} (or {@link #close()}).
 */
final class WebhookReceiver implements AutoCloseable {

    /** One POST as received; {@code authorization} is its Authorization header, null when none. */
    record Delivery(byte[] body, String timestamp, String signature, String authorization) {
        boolean signedWith(byte[] secret) {
            return new WebhookSignature(secret).verify(timestamp, body, signature);
        }

        String text() {
            return new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "e2e-webhook");
        thread.setDaemon(true);
        return thread;
    });
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final List<Delivery> held = new CopyOnWriteArrayList<>();
    private volatile CountDownLatch hang;

    WebhookReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(executor);
        server.createContext("/alerts", this::handle);
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/alerts");
    }

    /** From now on requests get no answer (the connection stays open) until {@link #answerAgain()}. */
    void hang() {
        hang = new CountDownLatch(1);
    }

    void answerAgain() {
        CountDownLatch current = hang;
        hang = null;
        if (current != null) {
            current.countDown();
        }
    }

    /** Requests answered with 200. */
    List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    /** Requests that arrived while hanging. */
    List<Delivery> held() {
        return List.copyOf(held);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Delivery delivery = new Delivery(exchange.getRequestBody().readAllBytes(),
                    exchange.getRequestHeaders().getFirst(WebhookSignature.TIMESTAMP_HEADER),
                    exchange.getRequestHeaders().getFirst(WebhookSignature.SIGNATURE_HEADER),
                    exchange.getRequestHeaders().getFirst("Authorization"));
            CountDownLatch current = hang;
            if (current != null) {
                held.add(delivery);
                try {
                    current.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return; // closing without a response: the client sees the connection drop
            }
            deliveries.add(delivery);
            exchange.sendResponseHeaders(200, -1);
        }
    }

    @Override
    public void close() {
        answerAgain();
        server.stop(0);
        executor.shutdownNow();
    }
}
