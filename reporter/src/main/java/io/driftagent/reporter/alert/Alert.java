package io.driftagent.reporter.alert;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One drift alert. The JSON field names (see DESIGN.md, "Alert") are a public contract: the JSON sink writes
 * exactly these, in this order. Optional parts are {@code null} when unknown, never invented.
 */
public record Alert(
        int schemaVersion,
        String id,
        Instant time,
        AlertType alertType,
        Severity severity,
        String action,
        Drift drift,
        Process process,
        Container container,
        Pod pod,
        String node,
        String cluster,
        Cloud cloud,
        Rule rule) {

    public static final int SCHEMA_VERSION = 1;

    public Alert {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(alertType, "alertType");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(drift, "drift");
        Objects.requireNonNull(process, "process");
    }

    public enum AlertType { BinaryDrift, BinaryDriftBlocked }

    public enum Severity { low, medium, high }

    /**
     * @param kind      the DriftKind name (ADDED, MODIFIED, MOUNT, FILELESS, UNRESOLVED)
     * @param path      the executed file, as seen inside the container; a byte of the name that is not UTF-8 is
     *                  written as U+FFFD (see pathBytes)
     * @param sha256    content digest of the executed file, null when not computed
     * @param imagePath the path in the image it shadows (MODIFIED), else null
     * @param layer     the image layer that holds imagePath, else null
     * @param reason    for UNRESOLVED: why it could not be decided, else null
     * @param pathBytes the exact bytes of the name, base64 (RFC 4648, padded), only when the name is not valid UTF-8
     *                  (so {@code path} alone is lossy); else null
     */
    public record Drift(String kind, String path, String sha256, String imagePath, String layer, String reason,
                        String pathBytes) {
        public Drift {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(path, "path");
        }

        /** A drift whose path is valid UTF-8 (no {@code pathBytes}). */
        public Drift(String kind, String path, String sha256, String imagePath, String layer, String reason) {
            this(kind, path, sha256, imagePath, layer, reason, null);
        }
    }

    public record Process(int pid, int ppid, int uid, String exe, List<String> cmdline, Parent parent) {
        public Process {
            cmdline = cmdline == null ? List.of() : List.copyOf(cmdline);
        }
    }

    public record Parent(int pid, String exe) {
    }

    public record Container(String id, String name, String runtime, String image, String imageDigest) {
    }

    public record Pod(String name, String namespace, String uid, Map<String, String> labels) {
        public Pod {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }
    }

    public record Cloud(String provider, String account) {
    }

    public record Rule(String name, Integer priority) {
    }
}
