package io.driftagent.agent.metadata.kubernetes;

import java.time.Instant;
import java.util.Objects;

/** The last failure to list or watch pods, for readiness messages. */
public record SyncError(Instant at, String message) {
    public SyncError {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(message, "message");
    }
}
