package io.driftagent.agent.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A hostile container root (symlinks to host files, "..", FIFOs, devices, a 1 TiB sparse file, a tree deeper than
 * PATH_MAX, names with newlines and invalid UTF-8) is read with both resolvers (openat2 and the component walk):
 * no host byte comes back and nothing stalls.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.KERNEL)
class NoFollowRootedFilesTest {

    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final byte[] INVALID_UTF8_NAME = {'b', 'a', 'd', (byte) 0xff, (byte) 0xfe, '\n', 'x'};
    private static final String HOST_SECRET = "host-secret-" + System.nanoTime();

    private Path root;
    private Path hostSecret;

    @BeforeAll
    void plantHostileRoot() throws Exception {
        Path base = Files.createTempDirectory("drift-hostile");
        hostSecret = base.resolve("host-secret.txt");
        Files.writeString(hostSecret, HOST_SECRET);
        root = Files.createDirectory(base.resolve("rootfs"));
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), "container passwd\n");
        Files.createSymbolicLink(root.resolve("shadow-abs"), Path.of("/etc/shadow"));
        Files.createSymbolicLink(root.resolve("secret-abs"), hostSecret);
        Files.createSymbolicLink(root.resolve("secret-rel"), Path.of("../host-secret.txt"));
        Files.createSymbolicLink(root.resolve("up"), Path.of(".."));
        Files.createSymbolicLink(root.resolve("etc-host"), Path.of("/etc"));
        Files.createSymbolicLink(root.resolve("proc-self"), Path.of("/proc/self/root"));
        Files.createSymbolicLink(root.resolve("loop-a"), Path.of("loop-b"));
        Files.createSymbolicLink(root.resolve("loop-b"), Path.of("/loop-a"));
        run("mkfifo", root.resolve("fifo").toString());
        run("mknod", root.resolve("zero").toString(), "c", "1", "5");
        try (RandomAccessFile sparse = new RandomAccessFile(root.resolve("sparse").toFile(), "rw")) {
            sparse.setLength(1L << 40);
        }
        Files.writeString(root.resolve("with\nnewline"), "newline content");
        run("python3", "-c", "import sys; open(sys.argv[1].encode() + b'/bad\\xff\\xfe\\nx', 'w').write('bytes')",
                root.toString());
        run("sh", "-c", "cd \"$1\" && mkdir deep && cd deep && i=0; while [ $i -lt 2100 ]; do mkdir d && cd d; "
                + "i=$((i+1)); done; echo bottom > f", "sh", root.toString());
    }

    @AfterAll
    void removeRoot() throws Exception {
        run("rm", "-rf", root.getParent().toString());
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }

    Stream<Arguments> resolvers() {
        NativeFiles openat2 = NativeFiles.load();
        List<Arguments> list = new ArrayList<>();
        list.add(Arguments.of("component walk", NativeFiles.loadWithoutOpenat2()));
        if (openat2.usesOpenat2()) {
            list.add(Arguments.of("openat2", openat2));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resolvers")
    void aContainerFileIsHashedByItsOwnContent(String name, NativeFiles nativeFiles) throws Exception {
        RootedFiles files = new NoFollowRootedFiles(nativeFiles);

        assertThat(files.sha256(root, "/etc/passwd", 1 << 20)).contains(sha256("container passwd\n"));
        assertThat(files.stat(root, "/etc/passwd")).get()
                .satisfies(f -> assertThat(f.type()).isEqualTo(FileFacts.Type.REGULAR))
                .satisfies(f -> assertThat(f.size()).isEqualTo(17));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resolvers")
    void symlinksAndDotDotNeverReachHostFiles(String name, NativeFiles nativeFiles) throws Exception {
        RootedFiles files = new NoFollowRootedFiles(nativeFiles);
        String secretHash = sha256(HOST_SECRET);

        for (String path : List.of("/shadow-abs", "/secret-abs", "/secret-rel", "/up/host-secret.txt",
                "/../host-secret.txt", "../host-secret.txt", "/etc/../../host-secret.txt", "/etc-host/shadow",
                "/etc-host/passwd", "/proc-self/etc/shadow", "/up/rootfs/etc/passwd")) {
            assertThat(files.sha256(root, path, 1 << 20)).as(path).isEmpty();
        }
        assertThat(files.stat(root, "/secret-abs")).get()
                .satisfies(f -> assertThat(f.type()).isEqualTo(FileFacts.Type.SYMLINK))
                .satisfies(f -> assertThat(f.size()).isEqualTo(hostSecret.toString().length()));
        assertThat(files.stat(root, "/etc-host/shadow")).isEmpty();
        assertThat(files.stat(root, "/../host-secret.txt")).isEmpty();
        assertThat(secretHash).isNotEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resolvers")
    void followingSymlinksInterpretsThemInsideTheRootOnly(String name, NativeFiles nativeFiles) {
        RootedFiles files = NoFollowRootedFiles.resolvingInsideRoot(nativeFiles);

        assertTimeoutPreemptively(BOUND, () -> {
            String containerPasswd = sha256("container passwd\n");
            assertThat(files.sha256(root, "/etc-host/passwd", 1 << 20)).contains(containerPasswd);
            assertThat(files.sha256(root, "/up/etc/passwd", 1 << 20)).contains(containerPasswd);
            for (String path : List.of("/shadow-abs", "/secret-abs", "/secret-rel", "/etc-host/shadow",
                    "/proc-self/etc/passwd", "/up/host-secret.txt", "/loop-a", "/loop-b/x", "/etc/passwd\0x")) {
                assertThat(files.sha256(root, path, 1 << 20)).as(path).isEmpty();
            }
            assertThat(files.stat(root, "/etc-host")).get()
                    .satisfies(f -> assertThat(f.type()).isEqualTo(FileFacts.Type.SYMLINK));
            assertThat(files.stat(root, "/etc-host/passwd")).get()
                    .satisfies(f -> assertThat(f.type()).isEqualTo(FileFacts.Type.REGULAR));
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resolvers")
    void fifosDevicesAndHugeSparseFilesAreNeverReadAndNothingStalls(String name, NativeFiles nativeFiles) {
        RootedFiles files = new NoFollowRootedFiles(nativeFiles);

        assertTimeoutPreemptively(BOUND, () -> {
            assertThat(files.sha256(root, "/fifo", 1 << 20)).isEmpty();
            assertThat(files.sha256(root, "/zero", Long.MAX_VALUE)).isEmpty();
            assertThat(files.sha256(root, "/sparse", 64L << 20)).isEmpty();
            assertThat(files.stat(root, "/fifo")).get()
                    .satisfies(f -> assertThat(f.type()).isEqualTo(FileFacts.Type.FIFO));
            assertThat(files.stat(root, "/sparse")).get()
                    .satisfies(f -> assertThat(f.size()).isEqualTo(1L << 40));
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resolvers")
    void aTreeDeeperThanPathMaxFailsFastInsteadOfStalling(String name, NativeFiles nativeFiles) {
        RootedFiles files = new NoFollowRootedFiles(nativeFiles);
        String deepest = "/deep" + "/d".repeat(2100) + "/f";

        assertTimeoutPreemptively(BOUND, () -> {
            assertThat(files.sha256(root, deepest, 1 << 20)).satisfiesAnyOf(
                    hash -> assertThat(hash).isEmpty(),
                    hash -> assertThat(hash).contains(sha256("bottom\n")));
            assertThatThrownBy(() -> new RootedTreeWalker(nativeFiles, 256, 1_000_000).walk(root, entry -> { }))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("deeper than 256");
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("resolvers")
    void namesWithNewlinesAndInvalidUtf8RoundTripAsBytes(String name, NativeFiles nativeFiles) throws Exception {
        RootedFiles files = new NoFollowRootedFiles(nativeFiles);
        String invalid = PathBytes.decode(INVALID_UTF8_NAME);

        assertThat(invalid).isEqualTo("bad\uDCFF\uDCFE\nx");
        assertThat(PathBytes.encode(invalid)).isEqualTo(INVALID_UTF8_NAME);
        assertThat(files.sha256(root, "/" + invalid, 1024)).contains(sha256("bytes"));
        assertThat(files.sha256(root, "/with\nnewline", 1024)).contains(sha256("newline content"));
    }

    @Test
    void statTellsTheModificationAndTheStatusChangeTimeApart() throws Exception {
        // given a file whose mtime is set far back (its ctime stays the time of that change)
        Path file = root.resolve("etc/timed");
        Files.writeString(file, "timed\n");
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(86_400_000L));

        // when
        FileFacts facts = new NoFollowRootedFiles(NativeFiles.load()).stat(root, "/etc/timed").orElseThrow();

        // then both are the kernel's, to the nanosecond
        assertThat(facts.mtimeNs()).isEqualTo(86_400_000_000_000L);
        assertThat(facts.ctimeNs()).isEqualTo(((java.nio.file.attribute.FileTime) Files.getAttribute(file,
                "unix:ctime", java.nio.file.LinkOption.NOFOLLOW_LINKS)).to(java.util.concurrent.TimeUnit.NANOSECONDS));
        assertThat(facts.ctimeNs()).isGreaterThan(facts.mtimeNs());
    }

    @Test
    void theWalkerReportsSymlinksDevicesAndOddNamesWithoutFollowingThem() throws Exception {
        NativeFiles nativeFiles = NativeFiles.load();
        List<TreeEntry> seen = new ArrayList<>();

        assertTimeoutPreemptively(BOUND, () -> new RootedTreeWalker(nativeFiles, 4096, 1_000_000)
                .walk(root, entry -> {
                    if (!entry.path().startsWith("/deep")) {
                        seen.add(entry);
                    }
                }));

        assertThat(seen).extracting(TreeEntry::path).contains("/etc", "/etc/passwd", "/fifo", "/zero",
                "/sparse", "/with\nnewline", "/bad\uDCFF\uDCFE\nx", "/secret-abs");
        assertThat(seen).filteredOn(e -> e.path().equals("/secret-abs")).singleElement()
                .satisfies(e -> assertThat(e.linkTarget()).isEqualTo(hostSecret.toString()));
        assertThat(seen).filteredOn(e -> e.path().equals("/zero")).singleElement()
                .satisfies(e -> assertThat(e.rdevMajor()).isEqualTo(1))
                .satisfies(e -> assertThat(e.rdevMinor()).isEqualTo(5))
                .satisfies(e -> assertThat(e.isWhiteout()).isFalse());
        assertThat(seen).noneMatch(e -> e.path().startsWith("/etc-host/") || e.path().startsWith("/up/"));
    }

    private static String sha256(String content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(content.getBytes(StandardCharsets.UTF_8)));
    }
}
