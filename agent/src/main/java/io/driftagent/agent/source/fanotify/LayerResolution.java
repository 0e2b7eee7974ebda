package io.driftagent.agent.source.fanotify;

/**
 * Where an executed file sits relative to the overlays the agent knows.
 *
 * @param overlay     the file was opened through an overlay (either the overlay inode, or one of its layer files)
 * @param upperLayer  the file is the overlay's upper (writable) layer file: created or copied up in the container
 * @param overlayDev  the overlay's device when known (else the file's own dev)
 * @param execTimeNanos when the file was placed in an overlay that is gone by its creation time (its device may belong
 *                      to another container by now): a CLOCK_MONOTONIC time inside that overlay's life as the agent saw
 *                      it, to time the exec by; 0 when the exec is timed as usual
 * @param unlinkedWithLayer the file has no link left because its writable layer was deleted after its container
 *                          ended, not because a process deleted it: not fileless
 */
record LayerResolution(boolean overlay, boolean upperLayer, long overlayDev, long execTimeNanos,
                       boolean unlinkedWithLayer) {

    LayerResolution(boolean overlay, boolean upperLayer, long overlayDev) {
        this(overlay, upperLayer, overlayDev, 0L, false);
    }

    static LayerResolution notOverlay(long dev) {
        return new LayerResolution(false, false, dev);
    }
}
