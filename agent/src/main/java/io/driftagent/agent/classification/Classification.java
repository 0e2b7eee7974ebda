package io.driftagent.agent.classification;

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
 * @param cause     for UNRESOLVED: the reason's code (one of a closed set); null for every other kind
 */
public record Classification(DriftKind kind, String path, String sha256, String imagePath, String layer, String reason,
                             UnresolvedReason cause) {
    public Classification {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
        if (kind == DriftKind.UNRESOLVED && (reason == null || cause == null)) {
            throw new IllegalArgumentException("UNRESOLVED needs a reason and its cause");
        }
        if (kind != DriftKind.UNRESOLVED) {
            cause = null;
        }
    }

    /** A resolved classification (any kind but UNRESOLVED: that one needs its {@link UnresolvedReason}). */
    public Classification(DriftKind kind, String path, String sha256, String imagePath, String layer, String reason) {
        this(kind, path, sha256, imagePath, layer, reason, kind == DriftKind.UNRESOLVED ? UnresolvedReason.NOT_CLASSIFIED : null);
    }

    /** UNRESOLVED for {@code cause}, with {@code reason} saying it in words. */
    public static Classification unresolved(String path, UnresolvedReason cause, String reason) {
        return new Classification(DriftKind.UNRESOLVED, path, null, null, null, reason, cause);
    }

    /** UNRESOLVED because no classification was made (a blocking decision taken before, or without, one). */
    public static Classification unresolved(String path, String reason) {
        return unresolved(path, UnresolvedReason.NOT_CLASSIFIED, reason);
    }
}
