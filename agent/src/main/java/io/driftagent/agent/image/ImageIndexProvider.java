package io.driftagent.agent.image;

import io.driftagent.agent.attribution.OverlayRoot;
import java.io.IOException;

/** Hands out the shared index of a container's image, built once per image from its lower layers. */
public interface ImageIndexProvider {

    /** The index for the image whose layers are {@code root.lowerDirs()}; built on first use, then shared. */
    ImageIndex indexFor(OverlayRoot root) throws IOException;

    /** The container using {@code root} is gone; the index is freed when its last container goes. */
    void release(OverlayRoot root);
}
