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

    /**
     * {@code BinaryDrift}: a file executed; {@code BinaryDriftBlocked}: its exec was denied; {@code LibraryDrift}: a
     * file mapped executable into a process (a shared library loaded through {@code LD_PRELOAD} or {@code dlopen}).
     */
    public enum AlertType { BinaryDrift, BinaryDriftBlocked, LibraryDrift }

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
     * @param origin    who wrote the file, for a file that drifted on a filesystem (ADDED, MODIFIED, MOUNT); null
     *                  for the other kinds
     */
    public record Drift(String kind, String path, String sha256, String imagePath, String layer, String reason,
                        String pathBytes, Origin origin) {
        public Drift {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(path, "path");
        }

        /** A drift without a known writer. */
        public Drift(String kind, String path, String sha256, String imagePath, String layer, String reason,
                     String pathBytes) {
            this(kind, path, sha256, imagePath, layer, reason, pathBytes, null);
        }

        /** A drift whose path is valid UTF-8 (no {@code pathBytes}), without a known writer. */
        public Drift(String kind, String path, String sha256, String imagePath, String layer, String reason) {
            this(kind, path, sha256, imagePath, layer, reason, null, null);
        }

        public Drift withOrigin(Origin newOrigin) {
            return new Drift(kind, path, sha256, imagePath, layer, reason, pathBytes, newOrigin);
        }
    }

    /**
     * The process that created or last wrote a drifted file, as captured when it wrote. Every field but
     * {@code reason} is null when unknown; {@code reason} says why the writer is unknown (e.g. the file was written
     * before the agent started) and is null when it is known.
     *
     * @param pid     the writer's process id (host pid namespace)
     * @param exe     the writer's executable, as its path in the container
     * @param cmdline the writer's command line
     * @param time    when it opened the file for writing
     * @param remote  {@code address:port} of a TCP peer the writer was connected to while writing (a download), else null
     * @param reason  why the writer is unknown, else null
     */
    public record Origin(Integer pid, String exe, List<String> cmdline, Instant time, String remote, String reason) {
        public Origin {
            cmdline = cmdline == null ? List.of() : List.copyOf(cmdline);
        }

        public static Origin unknown(String reason) {
            return new Origin(null, null, List.of(), null, null, Objects.requireNonNull(reason, "reason"));
        }
    }

    /**
     * @param euid      effective uid, null when unknown
     * @param loginUid  the audit login uid (who logged in, kept across su/sudo), null when unknown or unset
     * @param auditSessionId the audit session id, null when unknown or unset
     * @param cwd       the working directory as a path in the container, null when unknown
     * @param ancestors up to {@link #MAX_ANCESTORS} ancestors inside the container, nearest (the parent) first; known
     *                  from the agent's process tree even when they have exited; empty when unknown
     * @param session   how the process entered the container: from its init or from an exec session; null when unknown
     */
    public record Process(int pid, int ppid, int uid, String exe, List<String> cmdline, Parent parent, Integer euid,
                          Integer loginUid, Long auditSessionId, String cwd, List<Ancestor> ancestors,
                          Session session) {
        public static final int MAX_ANCESTORS = 8;

        public Process {
            cmdline = cmdline == null ? List.of() : List.copyOf(cmdline);
            ancestors = ancestors == null ? List.of() : List.copyOf(ancestors);
            if (ancestors.size() > MAX_ANCESTORS) {
                ancestors = ancestors.subList(0, MAX_ANCESTORS);
            }
        }

        /** A process with only the facts every source has. */
        public Process(int pid, int ppid, int uid, String exe, List<String> cmdline, Parent parent) {
            this(pid, ppid, uid, exe, cmdline, parent, null, null, null, null, List.of(), null);
        }
    }

    public record Parent(int pid, String exe) {
    }

    /** One ancestor of the alerted process: its pid (host pid namespace), executable and command line. */
    public record Ancestor(int pid, String exe, List<String> cmdline) {
        public Ancestor {
            cmdline = cmdline == null ? List.of() : List.copyOf(cmdline);
        }
    }

    /**
     * How a process entered its container.
     *
     * @param kind {@code init}: it descends from the container's own init (the entrypoint); {@code exec}: from an exec
     *             session ({@code kubectl exec}, {@code crictl exec}, {@code docker exec})
     * @param id   the same for every process of one session (and for every process of one container's init tree),
     *             different across sessions
     */
    public record Session(SessionKind kind, String id) {
        public Session {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(id, "id");
        }
    }

    public enum SessionKind { init, exec }

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
