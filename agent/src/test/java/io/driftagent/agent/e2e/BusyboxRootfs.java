package io.driftagent.agent.e2e;

import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A one-layer image made of the host's static busybox and a few applet links: as an OCI archive for
 * {@code ctr images import}, or as a FROM-scratch Docker build context (Docker Hub is not reachable here).
 */
final class BusyboxRootfs {

    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "cp", "ls", "cat", "sleep", "true", "chmod", "rm");

    private BusyboxRootfs() {
    }

    static boolean available() {
        return Files.isRegularFile(BUSYBOX);
    }

    /** The image's root filesystem in {@code dir}. */
    static Path write(Path dir) throws IOException {
        Path root = Files.createDirectories(dir);
        for (String d : List.of("bin", "tmp", "etc", "proc", "sys", "dev", "run")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.setPosixFilePermissions(root.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.copy(BUSYBOX, root.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : APPLETS) {
            Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
        return root;
    }

    /**
     * An OCI image layout archive named {@code name}.
     *
     * @return the manifest digest ({@code sha256:<hex>}), which containerd and a kubelet report as the image's digest
     */
    static String writeOciArchive(Path dir, String name, Path archive) throws IOException {
        Path rootfs = write(dir.resolve("rootfs"));
        Path layerTar = dir.resolve("layer.tar");
        HostCommands.run("tar", "-C", rootfs.toString(), "--numeric-owner", "--owner=0", "--group=0", "-cf",
                layerTar.toString(), ".");
        Path blobs = Files.createDirectories(dir.resolve("oci/blobs/sha256"));
        byte[] layer = Files.readAllBytes(layerTar);
        String layerDigest = blob(blobs, layer);
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sleep\",\"600\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + layerDigest + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(blobs, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:"
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:" + layerDigest + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(blobs, manifest);
        Files.writeString(dir.resolve("oci/index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + manifestDigest
                + "\",\"size\":" + manifest.length + ",\"annotations\":{\"io.containerd.image.name\":\"" + name
                + "\"}}]}");
        Files.writeString(dir.resolve("oci/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        HostCommands.run("tar", "-C", dir.resolve("oci").toString(), "-cf", archive.toString(), ".");
        return "sha256:" + manifestDigest;
    }

    /** A Docker build context whose image is exactly this root filesystem. */
    static Path writeDockerContext(Path dir) throws IOException {
        write(dir.resolve("rootfs"));
        Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nCOPY rootfs/ /\nCMD [\"/bin/sleep\", \"600\"]\n");
        return dir;
    }

    private static String blob(Path blobs, byte[] content) throws IOException {
        String digest = sha256(content);
        Files.write(blobs.resolve(digest), content);
        return digest;
    }

    private static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java SE runtime", e);
        }
    }
}
