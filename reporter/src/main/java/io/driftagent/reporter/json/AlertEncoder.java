package io.driftagent.reporter.json;

import io.driftagent.reporter.alert.Alert;

/** Turns an alert into the bytes one sink sends for it: one document, no trailing newline. Thread-safe. */
@FunctionalInterface
public interface AlertEncoder {

    /** {@code alert} standing for {@code count >= 1} occurrences (a deduplication summary when above 1). */
    byte[] encode(Alert alert, int count);
}
