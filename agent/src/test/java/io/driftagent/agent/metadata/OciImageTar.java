package io.driftagent.agent.metadata;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Writes a one-layer OCI image archive holding a static busybox, for {@code ctr images import}. */
public final class OciImageTar {
    private OciImageTar() {
    }

    /** Writes the archive to {@code target}; returns the manifest digest containerd will report. */
    public static String write(Path target, String imageName) throws IOException {
        byte[] layer = tar(out -> {
            directory(out, "bin/");
            file(out, "bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
        });
        String layerDigest = sha256(layer);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/busybox\",\"sleep\","
                + "\"300\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layerDigest + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + sha256(config) + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = sha256(manifest);
        byte[] index = ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length + ",\"annotations\":{\"io.containerd.image.name\":\"" + imageName + "\"}}]}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] archive = tar(out -> {
            file(out, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8), 0644);
            file(out, "index.json", index, 0644);
            directory(out, "blobs/");
            directory(out, "blobs/sha256/");
            for (byte[] blob : new byte[][] {layer, config, manifest}) {
                file(out, "blobs/sha256/" + sha256(blob).substring("sha256:".length()), blob, 0644);
            }
        });
        Files.write(target, archive);
        return manifestDigest;
    }

    private interface TarContent {
        void writeTo(TarArchiveOutputStream out) throws IOException;
    }

    private static byte[] tar(TarContent content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            content.writeTo(out);
        }
        return bytes.toByteArray();
    }

    private static void directory(TarArchiveOutputStream out, String name) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setMode(040755);
        out.putArchiveEntry(entry);
        out.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream out, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setMode(0100000 | mode);
        out.putArchiveEntry(entry);
        ((OutputStream) out).write(content);
        out.closeArchiveEntry();
    }

    public static String sha256(byte[] content) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
