package io.driftagent.systest.kubelet;

/**
 * One httpGet probe of the container, its named port resolved, with kubelet's defaults filled in.
 *
 * @param kind startup, readiness or liveness
 */
public record Probe(String kind, String scheme, int port, String path, int initialDelaySeconds, int periodSeconds,
                    int timeoutSeconds, int successThreshold, int failureThreshold) {

    public Probe {
        if (port <= 0 || port > 65535 || periodSeconds <= 0 || timeoutSeconds <= 0 || failureThreshold <= 0
                || successThreshold <= 0 || initialDelaySeconds < 0) {
            throw new IllegalArgumentException("invalid " + kind + " probe: port " + port + ", period "
                    + periodSeconds + ", timeout " + timeoutSeconds + ", thresholds " + successThreshold + "/"
                    + failureThreshold);
        }
    }

    /** The time kubelet gives the probe before it gives up on it: initialDelay + failureThreshold x period. */
    public java.time.Duration budget() {
        return java.time.Duration.ofSeconds(initialDelaySeconds + (long) failureThreshold * periodSeconds);
    }

    public String url(String host) {
        return scheme.toLowerCase(java.util.Locale.ROOT) + "://" + host + ":" + port + path;
    }
}
