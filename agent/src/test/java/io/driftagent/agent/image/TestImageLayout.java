package io.driftagent.agent.image;

import io.driftagent.agent.fixture.OciLayout;
import io.driftagent.agent.fixture.OciLayout.Compression;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a three-layer busybox-static OCI image layout the tests build from scratch:
 * layer 1 (gzip) the base with a usrmerge {@code /bin -> usr/bin}, busybox, a hard link, symlinks;
 * layer 2 (zstd) a file whiteout, a directory whiteout, an opaque directory, an absolute symlink, odd names;
 * layer 3 (plain tar) a modified file, a chmod'ed copy of busybox, a re-created directory, a symlink loop.
 */
final class TestImageLayout {

    static final String REF = "v1";
    static final byte[] BUSYBOX = readBusybox();

    final Path dir;
    final String manifestDigest;
    final String imageName;

    private TestImageLayout(Path dir, String manifestDigest, String imageName) {
        this.dir = dir;
        this.manifestDigest = manifestDigest;
        this.imageName = imageName;
    }

    private static byte[] readBusybox() {
        try {
            return Files.readAllBytes(Path.of("/bin/busybox"));
        } catch (IOException absent) {
            return null;
        }
    }

    /** One layer being written. */
    static final class Layer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar;

        Layer() {
            tar = new TarArchiveOutputStream(bytes, StandardCharsets.UTF_8.name());
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        }

        Layer dir(String name, int mode) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
            e.setMode(040000 | mode);
            return put(e, null);
        }

        Layer file(String name, int mode, byte[] content) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setMode(0100000 | mode);
            e.setSize(content.length);
            return put(e, content);
        }

        Layer file(String name, int mode, String content) throws IOException {
            return file(name, mode, content.getBytes(StandardCharsets.UTF_8));
        }

        Layer symlink(String name, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(target);
            e.setMode(0120777);
            return put(e, null);
        }

        Layer hardlink(String name, String target) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
            e.setLinkName(target);
            e.setMode(0100755);
            return put(e, null);
        }

        Layer empty(String name) throws IOException {
            return file(name, 0644, new byte[0]);
        }

        private Layer put(TarArchiveEntry e, byte[] content) throws IOException {
            e.setUserId(0);
            e.setGroupId(0);
            e.setModTime(1_700_000_000_000L);
            tar.putArchiveEntry(e);
            if (content != null) {
                tar.write(content);
            }
            tar.closeArchiveEntry();
            return this;
        }

        byte[] finish() throws IOException {
            tar.finish();
            tar.close();
            return bytes.toByteArray();
        }
    }

    static List<Layer> layers() throws IOException {
        Layer base = new Layer()
                .dir("etc", 0755).dir("usr", 0755).dir("usr/bin", 0755).dir("opt", 0755).dir("opt/old", 0755)
                .dir("tmp", 01777).dir("var", 0755).dir("var/cache", 0700)
                .symlink("bin", "usr/bin")
                .file("usr/bin/busybox", 0755, BUSYBOX)
                .hardlink("usr/bin/sh", "usr/bin/busybox")
                .symlink("usr/bin/sleep", "busybox")
                .symlink("usr/bin/cat", "../../usr/bin/./busybox")
                .file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n")
                .file("etc/removed", 0644, "soon gone\n")
                .file("opt/old/a", 0644, "a\n").file("opt/old/b", 0600, "b\n")
                .file("var/cache/big", 0644, new byte[200_000]);
        Layer middle = new Layer()
                .empty("etc/.wh.removed")
                .dir("opt/old", 0750).empty("opt/old/.wh..wh..opq").file("opt/old/c", 0640, "c\n")
                .dir("usr/local", 0755).dir("usr/local/bin", 0755).symlink("usr/local/bin/ls", "/bin/busybox")
                .dir("app", 0755).file("app/run.sh", 0755, "#!/bin/sh\necho run\n")
                .file("app/na\u00efve-\u00fcnicode", 0644, "unicode\n")
                .file("app/with\nnewline", 0644, "newline\n")
                .empty(".wh.var");
        Layer top = new Layer()
                .dir("etc", 0755).file("etc/passwd", 0600, "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/:/bin/sh\n")
                .file("usr/bin/busybox", 0750, BUSYBOX)
                .dir("var", 0711).file("var/new", 0644, "new\n")
                .symlink("loop1", "loop2").symlink("loop2", "/loop1");
        return List.of(base, middle, top);
    }

    /** Writes the layout into {@code dir} with the given compressions for layers 1..3 (bottom first). */
    static TestImageLayout write(Path dir, String imageName, Compression... compressions) throws Exception {
        List<Layer> layers = layers();
        List<OciLayout.Layer> blobs = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            blobs.add(new OciLayout.Layer(layers.get(i).finish(), compressions[i]));
        }
        String manifestDigest = OciLayout.write(dir, imageName, REF, List.of("/bin/sleep", "3600"), blobs);
        return new TestImageLayout(dir, manifestDigest, imageName);
    }

    /**
     * Adds an image index (ref "multi") listing first a linux/arm64 manifest that has only the base layer, then the
     * linux/amd64 manifest of {@link #REF}: picking the wrong platform yields a visibly different index.
     */
    void addMultiPlatformIndex() throws IOException {
        String manifest = new String(Files.readAllBytes(dir.resolve("blobs/sha256").resolve(manifestDigest.substring(7))),
                StandardCharsets.UTF_8);
        String firstLayer = manifest.substring(manifest.indexOf("\"layers\":[") + 10, manifest.indexOf('}',
                manifest.indexOf("\"layers\":[")) + 1);
        String configText = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[\"" + diffIdOfBase() + "\"]}}";
        byte[] config = configText.getBytes(StandardCharsets.UTF_8);
        String configDigest = OciLayout.writeBlob(dir, config);
        byte[] arm = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[" + firstLayer + "]}")
                .getBytes(StandardCharsets.UTF_8);
        String armDigest = OciLayout.writeBlob(dir, arm);
        byte[] amd = manifest.getBytes(StandardCharsets.UTF_8);
        byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                + "\"manifests\":["
                + "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + armDigest
                + "\",\"size\":" + arm.length + ",\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
                + "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest
                + "\",\"size\":" + amd.length + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}")
                .getBytes(StandardCharsets.UTF_8);
        String indexDigest = OciLayout.writeBlob(dir, index);
        String top = Files.readString(dir.resolve("index.json"));
        String entry = "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" + indexDigest
                + "\",\"size\":" + index.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}";
        Files.writeString(dir.resolve("index.json"), top.replace("\"manifests\":[", "\"manifests\":[" + entry + ","));
    }

    private String diffIdOfBase() throws IOException {
        String config = null;
        try (var blobs = Files.list(dir.resolve("blobs/sha256"))) {
            for (Path blob : blobs.toList()) {
                if (Files.size(blob) < 4096) {
                    String text = Files.readString(blob, StandardCharsets.ISO_8859_1);
                    if (text.contains("\"diff_ids\"") && text.contains("amd64")) {
                        config = text;
                    }
                }
            }
        }
        if (config == null) {
            throw new IOException("no amd64 config in " + dir);
        }
        int start = config.indexOf("\"diff_ids\":[\"") + 13;
        return config.substring(start, config.indexOf('"', start));
    }
}
