package io.driftagent.agent.image;

import java.io.IOException;
import java.util.Optional;

/**
 * The immutable file index of one image: its merged view (whiteouts applied), shared by every container of that
 * image. Paths are absolute, normalised image paths ("/usr/bin/ls").
 */
public interface ImageIndex {

    /** The image's identity (digest, or a key derived from its layers). */
    String identity();

    /** The entry at exactly this path, following no symlink (the last component may itself be a symlink). */
    Optional<IndexEntry> lookup(String absolutePath);

    /**
     * The entry this path names inside the image, following the image's own symlinks in every component
     * (usrmerge: {@code /bin/ls} -> {@code /usr/bin/ls}), never the host's; empty when it leads nowhere or loops.
     */
    Optional<IndexEntry> resolve(String absolutePath);

    /** The sha256 (lowercase hex) of a regular file entry: precomputed or computed lazily once from its layer. */
    String sha256(IndexEntry entry) throws IOException;

    /** Number of indexed paths. */
    int size();

    /** Estimated heap held by this index, in bytes. */
    long estimatedBytes();
}
