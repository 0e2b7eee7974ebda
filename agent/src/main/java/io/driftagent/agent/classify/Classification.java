package io.driftagent.agent.classify;

import io.driftagent.policy.model.DriftKind;
import java.util.Objects;

/**
 * The verdict of comparing one executed file with its container's image.
 *
 * @param kind      the drift kind
 * @param path      the executed file as seen inside the container (for a script, the script)
 * @param sha256    lowercase hex digest of the executed file, null when it was not needed or not readable
 * @param imagePath the image path it corresponds to (MODIFIED, IMAGE), else null
 * @param layer     the image layer (digest or directory) that holds imagePath, else null
 * @param reason    for UNRESOLVED (and any degraded answer): why, in a few words; else null
 */
public record Classification(DriftKind kind, String path, String sha256, String imagePath, String layer, String reason) {
    public Classification {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
        if (kind == DriftKind.UNRESOLVED && reason == null) {
            throw new IllegalArgumentException("UNRESOLVED needs a reason");
        }
    }

    public static Classification unresolved(String path, String reason) {
        return new Classification(DriftKind.UNRESOLVED, path, null, null, null, reason);
    }
}
