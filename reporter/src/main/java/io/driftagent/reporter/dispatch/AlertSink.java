package io.driftagent.reporter.dispatch;

import io.driftagent.reporter.alert.Alert;

/** One destination for alerts. Called from the dispatcher's worker only; may throw, the dispatcher isolates it. */
public interface AlertSink extends AutoCloseable {
    String name();

    void publish(Alert alert) throws Exception;

    @Override
    default void close() {
    }
}
