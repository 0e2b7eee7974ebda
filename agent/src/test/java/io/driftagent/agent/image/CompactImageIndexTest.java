package io.driftagent.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.image.IndexEntry.EntryType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Path semantics of the merged index, built from in-memory layers. */
class CompactImageIndexTest {

    private static CompactImageIndex image() {
        MergedImageBuilder builder = new MergedImageBuilder("test", List.of("top", "base"), 1000);
        builder.beginLayer(0);
        builder.add("/usr/local/bin/tool", EntryType.SYMLINK, 0777, 0, "../../bin/busybox", null);
        builder.add("/lib", EntryType.SYMLINK, 0777, 0, "/usr/lib", null);
        builder.add("/a", EntryType.SYMLINK, 0777, 0, "b", null);
        builder.add("/b", EntryType.SYMLINK, 0777, 0, "/a", null);
        builder.add("/dangling", EntryType.SYMLINK, 0777, 0, "/nowhere", null);
        builder.add("/through-file", EntryType.SYMLINK, 0777, 0, "/etc/passwd/x", null);
        builder.add("/up", EntryType.SYMLINK, 0777, 0, "../../../../usr/bin/busybox", null);
        builder.endLayer();
        builder.beginLayer(1);
        builder.add("/bin", EntryType.SYMLINK, 0777, 0, "usr/bin", null);
        builder.add("/usr", EntryType.DIRECTORY, 0755, 0, null, null);
        builder.add("/usr/bin", EntryType.DIRECTORY, 0755, 0, null, null);
        builder.add("/usr/bin/busybox", EntryType.REGULAR, 0755, 1234, null, new byte[32]);
        builder.add("/usr/lib/libc.so", EntryType.REGULAR, 0644, 99, null, new byte[32]);
        builder.add("/etc/passwd", EntryType.REGULAR, 0644, 10, null, new byte[32]);
        builder.endLayer();
        return builder.build(ContentHasher.NONE);
    }

    @Test
    void lookupFindsExactPathsWithoutFollowingAndNormalisesSloppyInput() {
        CompactImageIndex index = image();

        assertThat(index.lookup("/usr/bin/busybox")).get().extracting(IndexEntry::size).isEqualTo(1234L);
        assertThat(index.lookup("//usr/./bin/busybox/")).get().extracting(IndexEntry::path)
                .isEqualTo("/usr/bin/busybox");
        assertThat(index.lookup("/bin")).get().extracting(IndexEntry::type).isEqualTo(EntryType.SYMLINK);
        assertThat(index.lookup("/bin/busybox")).isEmpty();
        assertThat(index.lookup("/")).get().extracting(IndexEntry::type).isEqualTo(EntryType.DIRECTORY);
        assertThat(index.lookup("/usr/bin/../bin/busybox")).isEmpty();
        assertThat(index.lookup("/usr/local")).get().extracting(IndexEntry::mode).isEqualTo(0755);
    }

    @Test
    void resolveFollowsTheImagesOwnSymlinksInEveryComponent() {
        CompactImageIndex index = image();

        assertThat(index.resolve("/bin/busybox")).get().extracting(IndexEntry::path).isEqualTo("/usr/bin/busybox");
        assertThat(index.resolve("/usr/local/bin/tool")).get().extracting(IndexEntry::path)
                .isEqualTo("/usr/bin/busybox");
        assertThat(index.resolve("/lib/libc.so")).get().extracting(IndexEntry::path).isEqualTo("/usr/lib/libc.so");
        assertThat(index.resolve("/up")).get().extracting(IndexEntry::path).isEqualTo("/usr/bin/busybox");
        assertThat(index.resolve("/../../bin/../bin/busybox")).get().extracting(IndexEntry::path)
                .isEqualTo("/usr/bin/busybox");
    }

    @Test
    void loopsDanglingLinksAndFilesUsedAsDirectoriesResolveToNothing() {
        CompactImageIndex index = image();

        assertThat(index.resolve("/a")).isEmpty();
        assertThat(index.resolve("/a/x")).isEmpty();
        assertThat(index.resolve("/dangling")).isEmpty();
        assertThat(index.resolve("/through-file")).isEmpty();
        assertThat(index.resolve("/etc/passwd/x")).isEmpty();
    }

    @Test
    void theAllocationFreeFastPathAgreesWithTheComponentWalk() {
        CompactImageIndex index = image();

        for (String path : List.of("/", "/bin", "/bin/busybox", "/bin/busybox/x", "/usr/local/bin/tool", "/lib",
                "/lib/libc.so", "/lib/missing", "/a", "/b/c", "/dangling", "/through-file", "/up", "/etc/passwd",
                "/etc/passwd/x", "/usr/../bin/busybox", "/usr", "/usr/local", "/nope", "/usr/bin/busybox")) {
            assertThat(index.resolveIndex(path)).as(path).isEqualTo(index.resolveByWalking(path));
        }
    }

    @Test
    void theIndexStaysWellUnderOneHundredBytesPerPath() {
        MergedImageBuilder builder = new MergedImageBuilder("big", List.of("only"), 1_000_000);
        builder.beginLayer(0);
        for (int d = 0; d < 1000; d++) {
            for (int f = 0; f < 100; f++) {
                builder.add("/usr/share/pkg" + d + "/file-" + f + ".txt", EntryType.REGULAR, 0644, f, null, null);
            }
        }
        builder.endLayer();
        CompactImageIndex index = builder.build(ContentHasher.NONE);

        assertThat(index.size()).isGreaterThan(100_000);
        assertThat((double) index.structureBytes() / index.size()).isLessThan(100.0);
        assertThat(index.lookup("/usr/share/pkg999/file-99.txt")).isPresent();
        assertThat(index.lookup("/usr/share/pkg999/file-100.txt")).isEmpty();
    }
}
