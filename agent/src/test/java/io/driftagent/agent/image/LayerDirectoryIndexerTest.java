package io.driftagent.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.driftagent.agent.fixture.OciLayout;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.image.IndexEntry.EntryType;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Layer directories in overlay's unpacked form, planted by the test: whiteouts as char devices 0/0, opaque
 * directories by xattr, and hostile content (symlinks to host files, FIFOs, a sparse 1 TiB file).
 */
@Tag(TestTiers.KERNEL)
class LayerDirectoryIndexerTest {

    private Path work;
    private Path upper;
    private Path lower;

    @BeforeEach
    void plantLayers() throws Exception {
        work = Files.createTempDirectory("drift-layer-dirs");
        lower = Files.createDirectories(work.resolve("lower"));
        upper = Files.createDirectories(work.resolve("upper"));
        Files.createDirectories(lower.resolve("usr/bin"));
        Files.createSymbolicLink(lower.resolve("bin"), Path.of("usr/bin"));
        Files.writeString(lower.resolve("usr/bin/tool"), "tool v1");
        Files.createDirectories(lower.resolve("etc/conf.d"));
        Files.writeString(lower.resolve("etc/conf.d/a"), "a");
        Files.writeString(lower.resolve("etc/gone"), "gone");
        Files.writeString(lower.resolve("etc/shadow"), "image shadow");
        Files.createDirectories(lower.resolve("data/sub"));
        Files.writeString(lower.resolve("data/sub/x"), "x");

        Files.createDirectories(upper.resolve("etc/conf.d"));
        setOpaque(upper.resolve("etc/conf.d"));
        Files.writeString(upper.resolve("etc/conf.d/b"), "b");
        mknodWhiteout(upper.resolve("etc/gone"));
        Files.writeString(upper.resolve("data"), "now a file");
        Files.createSymbolicLink(upper.resolve("host-shadow"), Path.of("/etc/shadow"));
        Files.createSymbolicLink(upper.resolve("escape"), Path.of("../../../../../../../etc/passwd"));
        exec("mkfifo", upper.resolve("fifo").toString());
        try (RandomAccessFile sparse = new RandomAccessFile(upper.resolve("sparse").toFile(), "rw")) {
            sparse.setLength(1L << 40);
        }
    }

    @AfterEach
    void remove() throws Exception {
        exec("rm", "-rf", work.toString());
    }

    @Test
    void whiteoutsOpaqueDirectoriesAndUpperFilesHideWhatIsBelow() throws Exception {
        CompactImageIndex index = LayerDirectoryIndexer.create().index(List.of(upper, lower));

        assertThat(index.lookup("/etc/gone")).isEmpty();
        assertThat(index.lookup("/etc/conf.d/a")).isEmpty();
        assertThat(index.lookup("/etc/conf.d/b")).isPresent();
        assertThat(index.lookup("/data")).get().extracting(IndexEntry::type).isEqualTo(EntryType.REGULAR);
        assertThat(index.lookup("/data/sub/x")).isEmpty();
        assertThat(index.lookup("/data/sub")).isEmpty();
        assertThat(index.resolve("/bin/tool")).get().extracting(IndexEntry::path).isEqualTo("/usr/bin/tool");
        assertThat(index.lookup("/usr/bin/tool").get().layer()).isEqualTo(lower.toString());
    }

    @Test
    void symlinksInLayersResolveInsideTheImageNeverOnTheHost() throws Exception {
        CompactImageIndex index = LayerDirectoryIndexer.create().index(List.of(upper, lower));

        IndexEntry viaLink = index.resolve("/host-shadow").orElseThrow();
        assertThat(viaLink.path()).isEqualTo("/etc/shadow");
        assertThat(index.sha256(viaLink)).isEqualTo(OciLayout.sha256Hex("image shadow"
                .getBytes(StandardCharsets.UTF_8)));
        assertThat(index.resolve("/escape")).isEmpty(); // the image has no /etc/passwd; ".." stops at its root
        IndexEntry link = index.lookup("/host-shadow").orElseThrow();
        assertThat(link.type()).isEqualTo(EntryType.SYMLINK);
        assertThatThrownBy(() -> index.sha256(link)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void fifosAndHugeSparseFilesAreIndexedButNeverReadAndNeverStall() throws Exception {
        LayerDirectoryIndexer indexer = new LayerDirectoryIndexer(
                new io.driftagent.agent.fs.RootedTreeWalker(io.driftagent.agent.fs.NativeFiles.load(), 64, 1000),
                io.driftagent.agent.fs.NoFollowRootedFiles.create(), 1L << 20, 1000);

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            CompactImageIndex index = indexer.index(List.of(upper, lower));
            assertThat(index.lookup("/fifo")).get().extracting(IndexEntry::type).isEqualTo(EntryType.FIFO);
            IndexEntry sparse = index.lookup("/sparse").orElseThrow();
            assertThat(sparse.size()).isEqualTo(1L << 40);
            assertThatThrownBy(() -> index.sha256(sparse)).isInstanceOf(IOException.class);
            // the regular file swapped for a FIFO after indexing: refused, not read
            IndexEntry tool = index.lookup("/usr/bin/tool").orElseThrow();
            Files.delete(lower.resolve("usr/bin/tool"));
            exec("mkfifo", lower.resolve("usr/bin/tool").toString());
            assertThatThrownBy(() -> index.sha256(tool)).isInstanceOf(IOException.class);
        });
    }

    @Test
    void aLayerWithMoreEntriesThanTheBoundFailsInsteadOfIndexingPartially() {
        LayerDirectoryIndexer indexer = new LayerDirectoryIndexer(
                new io.driftagent.agent.fs.RootedTreeWalker(io.driftagent.agent.fs.NativeFiles.load(), 64, 5),
                io.driftagent.agent.fs.NoFollowRootedFiles.create(), 1L << 20, 1000);

        assertThatThrownBy(() -> indexer.index(List.of(upper, lower))).isInstanceOf(IOException.class)
                .hasMessageContaining("more than 5 entries");
    }

    private static void setOpaque(Path dir) throws Exception {
        exec("python3", "-c", "import os,sys; os.setxattr(sys.argv[1], 'trusted.overlay.opaque', b'y')", dir.toString());
    }

    private static void mknodWhiteout(Path path) throws Exception {
        exec("mknod", path.toString(), "c", "0", "0");
    }

    private static void exec(String... command) throws Exception {
        ImageIndexSourcesAgreeTest.run(command);
    }
}
