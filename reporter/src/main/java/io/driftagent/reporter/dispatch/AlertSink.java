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

    /**
     * True for a sink that only updates this process's memory (the alert counters): it never blocks and has nothing
     * to fail on, so the dispatcher calls it on its worker, without a lane of its own (no thread, no queue, no
     * {@code drift_sink_*} series: ten series and a thread fewer per node).
     */
    default boolean inProcess() {
        return false;
    }

    @Override
    default void close() {
    }
}
