package io.driftagent.agent.image;

/**
 * Bounds on what an image source may make the agent read.
 *
 * @param maxManifestBytes largest manifest or index document
 * @param maxBlobBytes     largest (compressed) layer blob
 * @param maxLayerBytes    largest uncompressed layer stream
 * @param maxEntries       most paths in one image
 * @param maxLayers        most layers in one image
 */
public record OciLimits(long maxManifestBytes, long maxBlobBytes, long maxLayerBytes, long maxEntries,
                        int maxLayers) {
    public OciLimits {
        if (maxManifestBytes <= 0 || maxBlobBytes <= 0 || maxLayerBytes <= 0 || maxEntries <= 0 || maxLayers <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    /** 4 MiB manifests, 8 GiB blobs, 32 GiB uncompressed layers, 10 million paths, 256 layers. */
    public static OciLimits defaults() {
        return new OciLimits(4L << 20, 8L << 30, 32L << 30, 10_000_000L, 256);
    }
}
