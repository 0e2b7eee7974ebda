package io.driftagent.reporter.dispatch;

import io.driftagent.reporter.alert.Alert;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A sink that remembers what it got and when (System.nanoTime). */
public final class RecordingSink implements AlertSink {

    public record Received(Alert alert, int count, long atNanos) {
    }

    private final String name;
    private final List<Received> received = new CopyOnWriteArrayList<>();

    public RecordingSink(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void publish(Alert alert) {
        publish(alert, 1);
    }

    @Override
    public void publish(Alert alert, int count) {
        received.add(new Received(alert, count, System.nanoTime()));
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    /** Waits until at least {@code n} alerts arrived; returns whether they did within the timeout. */
    public boolean awaitCount(int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (received.size() < n) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }
}
