package io.driftagent.agent.kubernetes;

import java.time.Instant;
import java.util.Objects;

/** A failure to list or watch (API server down, 403, a missing CRD, a watch closed): when, and what was thrown. */
public record InformerFailure(Instant at, String message) {
    public InformerFailure {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(message, "message");
    }
}
