package io.driftagent.agent.provenance;

/** Why a drifted file's writer is unknown: the fixed set of {@code drift.origin.reason} texts (docs/alerts.md). */
public enum OriginUnknown {
    /** No write by a process in a container was seen since tracking started. */
    NOT_SEEN("no write seen since the agent started: written before it, or from outside any container"),
    /** The container wrote more files than are kept for one container. */
    EVICTED_CONTAINER("evicted: more than " + WriteOrigins.Limits.DEFAULT_PER_CONTAINER
            + " written files in this container"),
    /** The node's containers wrote more files than are kept in all. */
    EVICTED_NODE("evicted: more than " + WriteOrigins.Limits.DEFAULT_TOTAL + " written files on this node"),
    /** The exec came from the fanotify source, which sees no writes. */
    FANOTIFY("writer not tracked by the fanotify source"),
    /** The write programs could not be loaded or attached, or write tracking is turned off. */
    UNAVAILABLE("write tracking unavailable on this kernel"),
    /** Write tracking turned off in the configuration ({@code ebpf.writeTracking: false}). */
    TURNED_OFF("write tracking turned off (ebpf.writeTracking)");

    private final String reason;

    OriginUnknown(String reason) {
        this.reason = reason;
    }

    /** The text of {@code drift.origin.reason}. */
    public String reason() {
        return reason;
    }
}
