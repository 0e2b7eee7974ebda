package io.driftagent.systest.workload;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the test images' OCI image layouts: layer blobs, a linux/amd64 config and manifest, and an
 * {@code index.json} naming the image for containerd ({@code io.containerd.image.name}) and by a ref.
 */
public final class OciLayout {

    /** How a layer tar is stored as a blob. */
    public enum Compression {
        GZIP("application/vnd.oci.image.layer.v1.tar+gzip"),
        NONE("application/vnd.oci.image.layer.v1.tar");

        private final String mediaType;

        Compression(String mediaType) {
            this.mediaType = mediaType;
        }
    }

    /** One layer: its uncompressed tar and how to store it. */
    public record Layer(byte[] tar, Compression compression) {
        public Layer {
            tar = tar.clone();
        }
    }

    private OciLayout() {
    }

    /**
     * Writes the layout of one image into {@code dir}: {@code layers} bottom first, {@code cmd} as the config's Cmd.
     *
     * @return the manifest digest ({@code sha256:<hex>}), which containerd and a kubelet report as the image's digest
     */
    public static String write(Path dir, String imageName, String ref, List<String> cmd, List<Layer> layers)
            throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        List<String> diffIds = new ArrayList<>();
        StringBuilder layerDescriptors = new StringBuilder();
        for (Layer layer : layers) {
            diffIds.add(digest(layer.tar()));
            byte[] blob = compress(layer.tar(), layer.compression());
            layerDescriptors.append(layerDescriptors.length() == 0 ? "" : ",").append("{\"mediaType\":\"")
                    .append(layer.compression().mediaType).append("\",\"digest\":\"").append(writeBlob(dir, blob))
                    .append("\",\"size\":").append(blob.length).append('}');
        }
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"" + String.join("\",\"", cmd)
                + "\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + String.join("\",\"", diffIds) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configDigest = writeBlob(dir, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[" + layerDescriptors + "]}")
                .getBytes(StandardCharsets.UTF_8);
        String manifestDigest = writeBlob(dir, manifest);
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},"
                + "\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + ref + "\","
                + "\"io.containerd.image.name\":\"" + imageName + "\"}}]}");
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return manifestDigest;
    }

    /** Stores {@code blob} under the layout's {@code blobs/sha256}; returns its digest. */
    public static String writeBlob(Path dir, byte[] blob) throws IOException {
        String digest = digest(blob);
        Files.write(dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())), blob);
        return digest;
    }

    /** {@code sha256:<hex>} of {@code bytes}. */
    public static String digest(byte[] bytes) {
        return "sha256:" + sha256Hex(bytes);
    }

    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java SE runtime", e);
        }
    }

    private static byte[] compress(byte[] tar, Compression compression) throws IOException {
        if (compression == Compression.NONE) {
            return tar;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream stream = new GZIPOutputStream(out)) {
            stream.write(tar);
        }
        return out.toByteArray();
    }
}
