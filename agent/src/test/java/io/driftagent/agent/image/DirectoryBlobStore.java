package io.driftagent.agent.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Blobs laid out as {@code <root>/blobs/sha256/<hex>}: an OCI image-layout directory, and containerd's content
 * store ({@code /var/lib/containerd/io.containerd.content.v1.content}) alike. These directories belong to the
 * host (the runtime or the operator), not to a container; a blob that is a symlink is still refused.
 */
public final class DirectoryBlobStore implements BlobStore {

    private final Path root;

    public DirectoryBlobStore(Path root) {
        this.root = root;
    }

    @Override
    public InputStream open(String digest, long maxBytes) throws IOException {
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new IOException("unsupported or malformed digest: " + digest);
        }
        Path blob = root.resolve("blobs").resolve("sha256").resolve(digest.substring(7));
        if (!Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("no blob " + digest + " in " + root);
        }
        if (Files.size(blob) > maxBytes) {
            throw new IOException("blob " + digest + " larger than " + maxBytes + " bytes");
        }
        return Files.newInputStream(blob, LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public String describe() {
        return root.toString();
    }
}
