package io.driftagent.agent.enforce;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The placement (cgroup id, mount namespace) of the processes that exec files of a container's overlay, learned from
 * {@code /proc} reads, so that the next asked exec of a file on that overlay can be decided from its descriptor's facts
 * alone (the overlay's device) and its process read only after the answer.
 *
 * <p>An overlay is a container's root: the processes that exec its files are that container's, which share one
 * cgroup and mount namespace. Learned only from a read placement; an overlay whose execs came from two placements
 * (a host process exec'ing through the container's root from outside, a process of another container sharing its
 * pid namespace, a second cgroup inside the container) is contested: its execs are placed from {@code /proc} before
 * the answer again, for as long as that overlay is mounted. A device given to a new overlay (the old one unmounted)
 * is told apart by the overlay's identity ({@link io.driftagent.agent.source.fanotify.OverlayLayers#overlayIdentity}).
 * Bounded: past {@link #MAX_OVERLAYS} overlays everything is forgotten (learned again at the next exec). Thread-safe.
 */
final class OverlayPlacements {

    static final int MAX_OVERLAYS = 4096;

    /** A learned placement of one overlay's execs. */
    record Placement(Object overlay, long cgroupId, long mountNsId) {
        Placement {
            Objects.requireNonNull(overlay, "overlay");
        }
    }

    /** What learning one read placement did. */
    enum Outcome { LEARNED, CONFIRMED, CONTESTED, IGNORED }

    private final Map<Long, Placement> byDev = new ConcurrentHashMap<>();
    /** Devices whose overlay (the identity) had execs from two placements. */
    private final Map<Long, Object> contested = new ConcurrentHashMap<>();

    /**
     * The placement learned for the overlay on {@code dev}, when it is still that overlay ({@code overlay}, its
     * identity now) and not contested; else null.
     */
    Placement known(long dev, Object overlay) {
        if (overlay == null) {
            return null;
        }
        Placement p = byDev.get(dev);
        return p != null && p.overlay().equals(overlay) ? p : null;
    }

    /**
     * Learns that an exec of a file on the overlay on {@code dev} ({@code overlay}, its identity) came from a process
     * with this placement, read from /proc. An unknown placement (the process gone: 0) teaches nothing.
     */
    Outcome learn(long dev, Object overlay, long cgroupId, long mountNsId) {
        if (overlay == null || cgroupId == 0 || mountNsId == 0) {
            return Outcome.IGNORED;
        }
        Object contestedOverlay = contested.get(dev);
        if (contestedOverlay != null) {
            if (contestedOverlay.equals(overlay)) {
                return Outcome.CONTESTED;
            }
            contested.remove(dev, contestedOverlay);
        }
        Placement learned = new Placement(overlay, cgroupId, mountNsId);
        Placement before = byDev.get(dev);
        if (before == null || !before.overlay().equals(overlay)) {
            if (byDev.size() >= MAX_OVERLAYS || contested.size() >= MAX_OVERLAYS) {
                byDev.clear();
                contested.clear();
            }
            byDev.put(dev, learned);
            return Outcome.LEARNED;
        }
        if (before.cgroupId() == cgroupId && before.mountNsId() == mountNsId) {
            return Outcome.CONFIRMED;
        }
        byDev.remove(dev, before);
        contested.put(dev, overlay);
        return Outcome.CONTESTED;
    }

    /** Overlays whose placement is known (for tests). */
    int size() {
        return byDev.size();
    }
}
