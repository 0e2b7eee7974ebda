package io.driftagent.agent.image;

import java.io.IOException;

/** Computes the sha256 of a regular file of one layer when an index did not get it while being built. */
@FunctionalInterface
public interface ContentHasher {

    /** Lowercase hex sha256 of {@code path} in the layer {@code layer}; throws when it cannot be read in bounds. */
    String sha256(String layer, String path) throws IOException;

    /** For indexes that have every hash already (built from tar streams). */
    ContentHasher NONE = (layer, path) -> {
        throw new IOException("no content source for " + path + " in layer " + layer);
    };
}
