package io.driftagent.agent.source.fanotify;

/**
 * Where an executed file sits relative to the overlays the agent knows.
 *
 * @param overlay     the file was opened through an overlay (either the overlay inode, or one of its layer files)
 * @param upperLayer  the file is the overlay's upper (writable) layer file: created or copied up in the container
 * @param overlayDev  the overlay's device when known (else the file's own dev)
 */
record LayerResolution(boolean overlay, boolean upperLayer, long overlayDev) {
    static LayerResolution notOverlay(long dev) {
        return new LayerResolution(false, false, dev);
    }
}
