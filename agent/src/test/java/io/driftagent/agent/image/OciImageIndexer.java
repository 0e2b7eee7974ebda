package io.driftagent.agent.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds an image index from OCI layer tars: an OCI image-layout directory, containerd's content store, or a
 * registry. A manifest list / image index resolves to the requested platform (linux/amd64 by default). Layers are
 * read top first (overlay's order, see {@link MergedImageBuilder}); every blob's digest is verified while it is
 * read and sizes are bounded by {@link OciLimits}. The index identity is the image manifest's digest.
 */
public final class OciImageIndexer {

    private static final Logger LOG = LoggerFactory.getLogger(OciImageIndexer.class);
    private static final String REF_NAME = "org.opencontainers.image.ref.name";

    private final OciLimits limits;
    private final String os;
    private final String architecture;
    private final JsonMapper json = JsonMapper.builder().build();

    public OciImageIndexer(OciLimits limits, String os, String architecture) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.os = Objects.requireNonNull(os, "os");
        this.architecture = Objects.requireNonNull(architecture, "architecture");
    }

    /** linux/amd64 with default limits. */
    public static OciImageIndexer linuxAmd64() {
        return new OciImageIndexer(OciLimits.defaults(), "linux", "amd64");
    }

    /**
     * From an OCI image-layout directory: the manifest named {@code refName} in {@code index.json}
     * (annotation {@code org.opencontainers.image.ref.name}), or the only one when refName is null.
     */
    public CompactImageIndex fromOciLayout(Path layout, String refName) throws IOException {
        Path indexJson = layout.resolve("index.json");
        if (!Files.isRegularFile(indexJson, LinkOption.NOFOLLOW_LINKS) || Files.size(indexJson) > limits.maxManifestBytes()) {
            throw new IOException("no usable index.json in " + layout);
        }
        JsonNode index = parse(Files.readAllBytes(indexJson), indexJson.toString());
        List<JsonNode> candidates = new ArrayList<>();
        for (JsonNode descriptor : index.path("manifests")) {
            String name = descriptor.path("annotations").path(REF_NAME).asString("");
            if (refName == null || refName.equals(name)) {
                candidates.add(descriptor);
            }
        }
        if (candidates.size() != 1) {
            throw new IOException(candidates.size() + " manifests match " + (refName == null ? "(any)" : refName)
                    + " in " + indexJson);
        }
        return fromManifestDigest(new DirectoryBlobStore(layout), candidates.get(0).path("digest").asString(""));
    }

    /** From containerd's content store root ({@code .../io.containerd.content.v1.content}) and a manifest digest. */
    public CompactImageIndex fromContainerdContentStore(Path contentRoot, String manifestDigest) throws IOException {
        return fromManifestDigest(new DirectoryBlobStore(contentRoot), manifestDigest);
    }

    /** From a registry: {@code reference} is a tag or a digest. */
    public CompactImageIndex fromRegistry(RegistryClient registry, String repository, String reference)
            throws IOException {
        RegistryClient.Manifest manifest = registry.manifest(repository, reference, limits.maxManifestBytes());
        BlobStore blobs = registry.blobStore(repository);
        return fromManifest(blobs, manifest.bytes(), manifest.digest(), 0, registry, repository);
    }

    /** From any blob store and the digest of an image manifest or image index. */
    public CompactImageIndex fromManifestDigest(BlobStore blobs, String digest) throws IOException {
        return fromManifest(blobs, readManifest(blobs, digest), digest, 0, null, null);
    }

    private byte[] readManifest(BlobStore blobs, String digest) throws IOException {
        try (DigestVerifyingInputStream in = new DigestVerifyingInputStream(
                blobs.open(digest, limits.maxManifestBytes()), digest, limits.maxManifestBytes())) {
            byte[] bytes = in.readAllBytes();
            in.drain();
            return bytes;
        }
    }

    private CompactImageIndex fromManifest(BlobStore blobs, byte[] bytes, String digest, int depth,
                                           RegistryClient registry, String repository) throws IOException {
        JsonNode manifest = parse(bytes, digest);
        if (manifest.has("manifests")) {
            if (depth > 0) {
                throw new IOException("nested image index in " + digest);
            }
            String chosen = choosePlatform(manifest, digest);
            byte[] chosenBytes = registry != null
                    ? registry.manifest(repository, chosen, limits.maxManifestBytes()).bytes()
                    : readManifest(blobs, chosen);
            if (!sha256(chosenBytes).equals(chosen)) {
                throw new IOException("manifest digest mismatch for " + chosen);
            }
            return fromManifest(blobs, chosenBytes, chosen, depth + 1, registry, repository);
        }
        List<String> layersBottomFirst = new ArrayList<>();
        for (JsonNode layer : manifest.path("layers")) {
            String mediaType = layer.path("mediaType").asString("");
            if (mediaType.contains("nondistributable") || mediaType.contains("foreign")) {
                LOG.debug("layer {} of {} is {}: read like any other", layer.path("digest").asString(""), digest,
                        mediaType);
            }
            layersBottomFirst.add(layer.path("digest").asString(""));
        }
        if (layersBottomFirst.isEmpty() || layersBottomFirst.size() > limits.maxLayers()) {
            throw new IOException("manifest " + digest + " has " + layersBottomFirst.size() + " layers");
        }
        List<String> topFirst = new ArrayList<>(layersBottomFirst);
        java.util.Collections.reverse(topFirst);
        MergedImageBuilder builder = new MergedImageBuilder(digest, topFirst, limits.maxEntries());
        LayerTarReader reader = new LayerTarReader(limits);
        long started = System.nanoTime();
        for (int i = 0; i < topFirst.size(); i++) {
            String layerDigest = topFirst.get(i);
            builder.beginLayer(i);
            try (DigestVerifyingInputStream blob = new DigestVerifyingInputStream(
                    blobs.open(layerDigest, limits.maxBlobBytes()), layerDigest, limits.maxBlobBytes())) {
                reader.read(blob, builder);
                blob.drain();
            } catch (IllegalStateException tooMany) {
                throw new IOException(tooMany.getMessage(), tooMany);
            }
            builder.endLayer();
        }
        CompactImageIndex index = builder.build(ContentHasher.NONE);
        LOG.debug("indexed {} paths of {} from {} in {} ms", index.size(), digest, blobs.describe(),
                (System.nanoTime() - started) / 1_000_000);
        return index;
    }

    private String choosePlatform(JsonNode imageIndex, String digest) throws IOException {
        for (JsonNode descriptor : imageIndex.path("manifests")) {
            JsonNode platform = descriptor.path("platform");
            if (os.equals(platform.path("os").asString("")) && architecture.equals(platform.path("architecture")
                    .asString(""))) {
                return descriptor.path("digest").asString("");
            }
        }
        throw new IOException("no " + os + "/" + architecture + " manifest in " + digest);
    }

    private JsonNode parse(byte[] bytes, String what) throws IOException {
        try {
            return json.readTree(bytes);
        } catch (JacksonException malformed) {
            throw new IOException("malformed JSON in " + what + ": " + malformed.getOriginalMessage(), malformed);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

}
