package io.driftagent.agent.image;

import java.io.IOException;
import java.io.InputStream;

/** Content-addressed blobs of OCI images (an OCI layout, containerd's content store, a registry). */
public interface BlobStore {

    /** Opens the blob {@code digest} ("sha256:hex"); the caller verifies the digest while reading. */
    InputStream open(String digest, long maxBytes) throws IOException;

    /** Human-readable description for messages. */
    String describe();
}
