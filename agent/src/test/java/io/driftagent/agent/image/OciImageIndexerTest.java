package io.driftagent.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.fixture.OciLayout;
import io.driftagent.agent.fixture.OciLayout.Compression;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** OCI layouts the test writes: compressions agree, tampered blobs and oversize layers are refused. */
@Tag(TestTiers.CONTAINERS)
class OciImageIndexerTest {

    private Path work;

    @BeforeEach
    void createWork() throws IOException {
        Assumptions.assumeTrue(TestImageLayout.BUSYBOX != null, "needs busybox-static at /bin/busybox");
        work = Files.createTempDirectory("drift-oci");
    }

    @AfterEach
    void remove() throws Exception {
        if (work != null) {
            ImageIndexSourcesAgreeTest.run("rm", "-rf", work.toString());
        }
    }

    @Test
    void gzipZstdAndPlainLayersOfTheSameContentGiveTheSameIndex() throws Exception {
        TestImageLayout gzip = TestImageLayout.write(work.resolve("gz"), "x", Compression.GZIP,
                Compression.GZIP, Compression.GZIP);
        TestImageLayout zstd = TestImageLayout.write(work.resolve("zst"), "x", Compression.ZSTD,
                Compression.ZSTD, Compression.ZSTD);
        TestImageLayout plain = TestImageLayout.write(work.resolve("tar"), "x", Compression.NONE,
                Compression.NONE, Compression.NONE);
        OciImageIndexer indexer = OciImageIndexer.linuxAmd64();

        var expected = ImageIndexSourcesAgreeTest.describe(indexer.fromOciLayout(gzip.dir, null));
        assertThat(ImageIndexSourcesAgreeTest.describe(indexer.fromOciLayout(zstd.dir, "v1"))).isEqualTo(expected);
        assertThat(ImageIndexSourcesAgreeTest.describe(indexer.fromOciLayout(plain.dir, "v1"))).isEqualTo(expected);
        assertThat(expected).containsKeys("/usr/bin/sh", "/opt/old/c", "/var/new").doesNotContainKeys(
                "/etc/removed", "/opt/old/a", "/var/cache/big", "/etc/.wh.removed", "/opt/old/.wh..wh..opq");
        assertThat(expected.get("/usr/bin/sh")).contains(OciLayout.sha256Hex(TestImageLayout.BUSYBOX));
    }

    @Test
    void anImageIndexResolvesToTheLinuxAmd64ManifestInALayoutAndInTheRegistry() throws Exception {
        Assumptions.assumeTrue(ImageIndexSourcesAgreeTest.commandWorks("curl", "-fsS", "http://127.0.0.1:5000/v2/"),
                "needs the registry on 127.0.0.1:5000 (scripts/host-setup.sh)");
        TestImageLayout layout = TestImageLayout.write(work.resolve("multi"), "x", Compression.GZIP,
                Compression.ZSTD, Compression.GZIP);
        layout.addMultiPlatformIndex();
        ImageIndexSourcesAgreeTest.run("skopeo", "copy", "--all", "--dest-tls-verify=false", "oci:" + layout.dir
                + ":multi", "docker://127.0.0.1:5000/drift-image-test/multi:v1");
        OciImageIndexer amd64 = OciImageIndexer.linuxAmd64();
        var expected = ImageIndexSourcesAgreeTest.describe(amd64.fromOciLayout(layout.dir, "v1"));

        CompactImageIndex fromLayout = amd64.fromOciLayout(layout.dir, "multi");
        CompactImageIndex fromRegistry = amd64.fromRegistry(
                RegistryClient.anonymous(java.net.URI.create("http://127.0.0.1:5000")), "drift-image-test/multi", "v1");
        CompactImageIndex arm64 = new OciImageIndexer(OciLimits.defaults(), "linux", "arm64")
                .fromOciLayout(layout.dir, "multi");

        assertThat(ImageIndexSourcesAgreeTest.describe(fromLayout)).isEqualTo(expected);
        assertThat(ImageIndexSourcesAgreeTest.describe(fromRegistry)).isEqualTo(expected);
        assertThat(fromLayout.identity()).isEqualTo(layout.manifestDigest);
        assertThat(arm64.lookup("/etc/removed")).isPresent();
        assertThatThrownBy(() -> new OciImageIndexer(OciLimits.defaults(), "linux", "s390x")
                .fromOciLayout(layout.dir, "multi")).isInstanceOf(IOException.class)
                .hasMessageContaining("no linux/s390x manifest");
    }

    @Test
    void aLayerBlobThatDoesNotMatchItsDigestIsRefused() throws Exception {
        TestImageLayout layout = TestImageLayout.write(work.resolve("tampered"), "x",
                Compression.NONE, Compression.NONE, Compression.NONE);
        Path blobs = layout.dir.resolve("blobs/sha256");
        try (var files = Files.list(blobs)) {
            for (Path blob : files.toList()) {
                if (Files.size(blob) > 100_000) {
                    byte[] bytes = Files.readAllBytes(blob);
                    bytes[bytes.length - 2000] ^= 1; // inside the tar's zero padding: still a valid tar
                    Files.write(blob, bytes);
                }
            }
        }

        assertThatThrownBy(() -> OciImageIndexer.linuxAmd64().fromOciLayout(layout.dir, "v1"))
                .isInstanceOf(IOException.class).hasMessageContaining("digest mismatch");
    }

    @Test
    void layersBeyondTheUncompressedBoundFailInsteadOfExhaustingMemory() throws Exception {
        TestImageLayout layout = TestImageLayout.write(work.resolve("bomb"), "x", Compression.GZIP,
                Compression.GZIP, Compression.GZIP);
        OciImageIndexer small = new OciImageIndexer(new OciLimits(1 << 20, 1L << 30, 100_000, 1000, 10),
                "linux", "amd64");

        assertThatThrownBy(() -> small.fromOciLayout(layout.dir, "v1")).isInstanceOf(IOException.class)
                .hasMessageContaining("uncompressed");
    }

    @Test
    void archiveEntriesEscapingTheRootAreDropped() throws Exception {
        TestImageLayout.Layer evil = new TestImageLayout.Layer().file("../../etc/evil", 0644, "x")
                .file("ok", 0644, "ok");
        MergedImageBuilder builder = new MergedImageBuilder("evil", List.of("l"), 100);
        builder.beginLayer(0);
        new LayerTarReader(OciLimits.defaults()).read(new java.io.ByteArrayInputStream(evil.finish()), builder);
        builder.endLayer();
        CompactImageIndex index = builder.build(ContentHasher.NONE);

        assertThat(index.lookup("/ok")).isPresent();
        assertThat(index.lookup("/etc/evil")).isEmpty();
        assertThat(index.size()).isEqualTo(2);
    }
}
