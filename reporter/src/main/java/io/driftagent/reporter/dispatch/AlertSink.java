package io.driftagent.reporter.dispatch;

import io.driftagent.reporter.alert.Alert;

/** One destination for alerts. Called from the dispatcher's worker only; may throw, the dispatcher isolates it. */
public interface AlertSink extends AutoCloseable {
    String name();

    void publish(Alert alert) throws Exception;

    /**
     * Publishes an alert that stands for {@code count} occurrences (a deduplication summary when {@code count > 1}).
     * Sinks that can show a count (JSON, webhook, Kubernetes Events) override this; the default publishes the
     * alert as an ordinary one.
     */
    default void publish(Alert alert, int count) throws Exception {
        publish(alert);
    }

    @Override
    default void close() {
    }
}
