package io.driftagent.reporter.k8s;

import java.time.Duration;
import java.util.Objects;

/**
 * @param component       the Event's source/reporting component, e.g. {@code drift-agent}
 * @param node            this node's name: the Event's source host and reporting instance
 * @param dedupWindow     repeats of the same drift on the same pod within this window update one Event
 * @param eventsPerSecond sustained rate of API calls (creates + patches) this sink makes
 * @param burst           API calls allowed at once above the sustained rate
 * @param maxTracked      Events remembered for deduplication (memory bound)
 */
public record KubernetesEventSettings(String component, String node, Duration dedupWindow, double eventsPerSecond,
                                      int burst, int maxTracked) {

    public KubernetesEventSettings {
        Objects.requireNonNull(component, "component");
        Objects.requireNonNull(dedupWindow, "dedupWindow");
        if (dedupWindow.isNegative() || dedupWindow.isZero()) {
            throw new IllegalArgumentException("dedupWindow must be positive: " + dedupWindow);
        }
        if (!(eventsPerSecond > 0) || burst < 1 || maxTracked < 1) {
            throw new IllegalArgumentException("eventsPerSecond must be > 0, burst and maxTracked >= 1");
        }
    }

    /** Defaults: 10 min window, 1 API call/s sustained with a burst of 10, 4096 tracked Events. */
    public static KubernetesEventSettings of(String node) {
        return new KubernetesEventSettings("drift-agent", node, Duration.ofMinutes(10), 1.0, 10, 4096);
    }

    public KubernetesEventSettings withDedupWindow(Duration window) {
        return new KubernetesEventSettings(component, node, window, eventsPerSecond, burst, maxTracked);
    }

    public KubernetesEventSettings withRate(double perSecond, int burstSize) {
        return new KubernetesEventSettings(component, node, dedupWindow, perSecond, burstSize, maxTracked);
    }
}
