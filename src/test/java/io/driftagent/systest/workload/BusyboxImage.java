package io.driftagent.systest.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The test image of the real-container tests, built from the host's busybox-static (Docker Hub is not reachable
 * here). Layer 1: busybox with its applets as links, an image tool ({@code /usr/bin/tool}, a busybox copy), a victim
 * script ({@code /usr/bin/victim}) and the usual root directories; layer 2 adds an app ({@code /opt/app/run.sh}).
 * Written as an OCI image layout archive (for {@code ctr images import}) or as a FROM-scratch Docker build context.
 */
public final class BusyboxImage {

    public static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "cp", "chmod", "cat", "sleep", "mount", "echo", "mkdir",
            "printf", "touch", "rm", "ls", "true");
    private static final List<String> LAYERS = List.of("layer1", "layer2");

    private BusyboxImage() {
    }

    public static boolean available() {
        return Files.isRegularFile(BUSYBOX);
    }

    /**
     * An OCI image layout archive of the two layers at {@code archive}, named {@code name} for containerd; {@code dir}
     * holds the layers and blobs.
     *
     * @return the manifest digest ({@code sha256:<hex>}), which containerd and a kubelet report as the image's digest
     */
    public static String writeOciArchive(Path dir, String name, Path archive) throws IOException {
        writeLayers(dir);
        List<OciLayout.Layer> layers = new ArrayList<>();
        for (String layer : LAYERS) {
            Path layerTar = dir.resolve(layer + ".tar");
            HostCommands.run("tar", "-C", dir.resolve(layer).toString(), "--numeric-owner", "--owner=0", "--group=0",
                    "-cf", layerTar.toString(), ".");
            layers.add(new OciLayout.Layer(Files.readAllBytes(layerTar), OciLayout.Compression.NONE));
        }
        String manifestDigest = OciLayout.write(dir.resolve("oci"), name, "latest", List.of("/bin/sleep", "600"), layers);
        HostCommands.run("tar", "-C", dir.resolve("oci").toString(), "-cf", archive.toString(), ".");
        return manifestDigest;
    }

    /** A Docker build context in {@code dir}: FROM scratch, one COPY per layer. */
    public static Path writeDockerContext(Path dir) throws IOException {
        writeLayers(dir);
        StringBuilder dockerfile = new StringBuilder("FROM scratch\n");
        LAYERS.forEach(layer -> dockerfile.append("COPY ").append(layer).append("/ /\n"));
        dockerfile.append("CMD [\"/bin/sleep\", \"600\"]\n");
        Files.writeString(dir.resolve("Dockerfile"), dockerfile);
        return dir;
    }

    /** Writes layer 1 into {@code dir}/layer1 and layer 2 into {@code dir}/layer2. */
    private static void writeLayers(Path dir) throws IOException {
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
        writeExecutable(l1.resolve("usr/bin/victim"), "#!/bin/sh\necho victim\n");
        Files.writeString(l1.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
        Path l2 = Files.createDirectories(dir.resolve("layer2"));
        writeExecutable(Files.createDirectories(l2.resolve("opt/app")).resolve("run.sh"),
                "#!/bin/sh\nexec /bin/sleep \"$@\"\n");
    }

    private static void writeExecutable(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
