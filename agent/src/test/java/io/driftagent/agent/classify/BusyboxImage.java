package io.driftagent.agent.classify;

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
 * A two-layer test image built from the host's busybox-static: layer 1 is busybox with its applets, an image tool
 * and a victim script; layer 2 adds an app. Written as plain layer directories, as an OCI image tar (for
 * {@code ctr images import}) or as a Docker build context (FROM scratch).
 */
final class BusyboxImage {

    static final Path BUSYBOX = Path.of("/bin/busybox");
    static final List<String> APPLETS = List.of("sh", "cp", "chmod", "cat", "sleep", "mount", "echo", "mkdir", "printf",
            "touch", "rm", "ls", "true");

    private BusyboxImage() {
    }

    static boolean available() {
        return Files.isRegularFile(BUSYBOX);
    }

    /** Writes layer 1 into {@code dir}/layer1 and layer 2 into {@code dir}/layer2. */
    static void writeLayers(Path dir) throws IOException {
        Path l1 = Files.createDirectories(dir.resolve("layer1"));
        for (String d : List.of("bin", "usr/bin", "tmp", "etc", "proc", "sys", "dev", "run", "scratch", "vol")) {
            Files.createDirectories(l1.resolve(d));
        }
        Files.setPosixFilePermissions(l1.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.copy(BUSYBOX, l1.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : APPLETS) {
            Files.createSymbolicLink(l1.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.copy(BUSYBOX, l1.resolve("usr/bin/tool"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.writeString(l1.resolve("usr/bin/victim"), "#!/bin/sh\necho victim\n");
        Files.setPosixFilePermissions(l1.resolve("usr/bin/victim"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(l1.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
        Path l2 = Files.createDirectories(dir.resolve("layer2"));
        Files.createDirectories(l2.resolve("opt/app"));
        Files.writeString(l2.resolve("opt/app/run.sh"), "#!/bin/sh\nexec /bin/sleep \"$@\"\n");
        Files.setPosixFilePermissions(l2.resolve("opt/app/run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** An OCI image layout tar of the two layers, named {@code name} for containerd. */
    static Path writeOciTar(Path dir, String name) throws IOException {
        writeLayers(dir);
        Path layout = Files.createDirectories(dir.resolve("oci/blobs/sha256"));
        String l1 = blob(layout, tar(dir.resolve("layer1"), dir.resolve("layer1.tar")));
        String l2 = blob(layout, tar(dir.resolve("layer2"), dir.resolve("layer2.tar")));
        long l1Size = Files.size(layout.resolve(l1));
        long l2Size = Files.size(layout.resolve(l2));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sleep\",\"600\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + l1 + "\",\"sha256:" + l2 + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(layout, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:"
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":["
                + "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:" + l1 + "\",\"size\":"
                + l1Size + "},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:" + l2
                + "\",\"size\":" + l2Size + "}]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(layout, manifest);
        Files.writeString(dir.resolve("oci/index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + manifestDigest + "\",\"size\":"
                + manifest.length + ",\"annotations\":{\"io.containerd.image.name\":\"" + name
                + "\",\"org.opencontainers.image.ref.name\":\"latest\"}}]}");
        Files.writeString(dir.resolve("oci/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Path out = dir.resolve("image.tar");
        HostCommands.run("tar", "-C", dir.resolve("oci").toString(), "-cf", out.toString(), ".");
        return out;
    }

    /** A Docker build context: FROM scratch, one COPY per layer. */
    static Path writeDockerContext(Path dir) throws IOException {
        writeLayers(dir);
        Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\nCOPY layer1/ /\nCOPY layer2/ /\n"
                + "CMD [\"/bin/sleep\", \"600\"]\n");
        return dir;
    }

    private static byte[] tar(Path source, Path target) throws IOException {
        HostCommands.run("tar", "-C", source.toString(), "--numeric-owner", "--owner=0", "--group=0", "-cf",
                target.toString(), ".");
        return Files.readAllBytes(target);
    }

    private static String blob(Path blobs, byte[] content) throws IOException {
        String digest = sha256(content);
        Files.write(blobs.resolve(digest), content);
        return digest;
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
