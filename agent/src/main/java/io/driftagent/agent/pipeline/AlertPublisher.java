package io.driftagent.agent.pipeline;

import io.driftagent.reporter.alert.Alert;

/**
 * Hands an alert to the reporter. Must not block (the reporter's dispatcher queues it); returns false when the
 * alert was not accepted (queue full), which the pipeline counts. The integrator adapts
 * {@code AlertDispatcher::submit}.
 */
@FunctionalInterface
public interface AlertPublisher {
    boolean publish(Alert alert);
}
