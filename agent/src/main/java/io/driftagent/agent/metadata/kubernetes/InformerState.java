package io.driftagent.agent.metadata.kubernetes;

/** Where the pod informer stands, for readiness and the {@code drift.informer.state} metric. */
public enum InformerState {
    /** Started, the first list has not completed yet (the API server may be unreachable). */
    STARTING(0),
    /** Listed and watching: the cache follows the API server. */
    SYNCED(1),
    /** Was synced, the watch is down (API server outage): the cache is kept and answers; re-lists when back. */
    DISCONNECTED(2),
    /** Closed. */
    STOPPED(3);

    private final int code;

    InformerState(int code) {
        this.code = code;
    }

    /** A stable number for a gauge. */
    public int code() {
        return code;
    }
}
