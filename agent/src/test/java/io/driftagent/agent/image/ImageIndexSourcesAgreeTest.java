package io.driftagent.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.fixture.OciLayout;
import io.driftagent.agent.fixture.OciLayout.Compression;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.fs.NoFollowRootedFiles;
import io.driftagent.agent.image.IndexEntry.EntryType;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * One image, four sources: the real registry at 127.0.0.1:5000 (pushed with skopeo), the OCI layout the test
 * wrote, containerd's content store (after {@code ctr images import}), and the overlay lower directories of a
 * container of that image running under containerd + runc. All four indexes must agree on every path's type,
 * mode, size, symlink target and sha256.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.CONTAINERS)
class ImageIndexSourcesAgreeTest {

    static final String NAMESPACE = "drift-image";
    static final String REGISTRY = "127.0.0.1:5000";
    static final String REPOSITORY = "drift-image-test/layers";
    static final Path CONTENT_STORE = Path.of("/var/lib/containerd/io.containerd.content.v1.content");

    private Path work;
    private TestImageLayout layout;
    private String containerName;
    private List<Path> lowerDirs;

    @BeforeAll
    void buildPushImportAndRun() throws Exception {
        Assumptions.assumeTrue(TestImageLayout.BUSYBOX != null, "needs busybox-static at /bin/busybox");
        Assumptions.assumeTrue(commandWorks("skopeo", "--version"), "needs skopeo");
        Assumptions.assumeTrue(commandWorks("ctr", "version"), "needs a running containerd (scripts/host-setup.sh)");
        Assumptions.assumeTrue(commandWorks("curl", "-fsS", "http://" + REGISTRY + "/v2/"),
                "needs the registry on " + REGISTRY + " (scripts/host-setup.sh)");
        work = Files.createTempDirectory("drift-image-sources");
        String imageName = "drift-image-test.local/layers:" + TestImageLayout.REF;
        layout = TestImageLayout.write(work.resolve("layout"), imageName, Compression.GZIP,
                Compression.ZSTD, Compression.NONE);

        run("skopeo", "copy", "--dest-tls-verify=false", "oci:" + layout.dir + ":" + TestImageLayout.REF,
                "docker://" + REGISTRY + "/" + REPOSITORY + ":" + TestImageLayout.REF);

        Path archive = work.resolve("image.tar");
        run("tar", "-C", layout.dir.toString(), "-cf", archive.toString(), ".");
        run("ctr", "-n", NAMESPACE, "images", "import", archive.toString());
        containerName = "drift-image-sources-" + ProcessHandle.current().pid();
        runQuietly("ctr", "-n", NAMESPACE, "task", "kill", "-s", "SIGKILL", containerName);
        runQuietly("ctr", "-n", NAMESPACE, "containers", "rm", containerName);
        run("ctr", "-n", NAMESPACE, "run", "-d", imageName, containerName, "/bin/sleep", "300");
        long pid = taskPid(containerName);
        lowerDirs = rootLowerDirs(pid);
    }

    @AfterAll
    void cleanUp() throws Exception {
        if (containerName != null) {
            runQuietly("ctr", "-n", NAMESPACE, "task", "kill", "-s", "SIGKILL", containerName);
            for (int i = 0; i < 50 && runQuietly("ctr", "-n", NAMESPACE, "task", "delete", containerName) != 0; i++) {
                Thread.sleep(100);
            }
            runQuietly("ctr", "-n", NAMESPACE, "containers", "rm", containerName);
        }
        if (layout != null) {
            runQuietly("ctr", "-n", NAMESPACE, "images", "rm", "--sync", layout.imageName);
        }
        if (work != null) {
            runQuietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void registryOciLayoutContentStoreAndRunningContainerLayersGiveTheSameIndex() throws Exception {
        OciImageIndexer oci = OciImageIndexer.linuxAmd64();

        CompactImageIndex fromRegistry = oci.fromRegistry(RegistryClient.anonymous(URI.create("http://" + REGISTRY)),
                REPOSITORY, TestImageLayout.REF);
        CompactImageIndex fromLayout = oci.fromOciLayout(layout.dir, TestImageLayout.REF);
        CompactImageIndex fromContentStore = oci.fromContainerdContentStore(CONTENT_STORE, layout.manifestDigest);
        CompactImageIndex fromLayerDirs = LayerDirectoryIndexer.create().index(lowerDirs);

        assertThat(lowerDirs).hasSize(3);
        Map<String, String> expected = describe(fromLayout);
        assertThat(describe(fromRegistry)).isEqualTo(expected);
        assertThat(describe(fromContentStore)).isEqualTo(expected);
        assertThat(describe(fromLayerDirs)).isEqualTo(expected);
        assertThat(fromLayout.identity()).isEqualTo(layout.manifestDigest);
        // skopeo gzips the uncompressed third layer on push, so the registry's manifest (and identity) differ
        // while the index does not
        String registryManifest = RegistryClient.anonymous(URI.create("http://" + REGISTRY))
                .manifest(REPOSITORY, TestImageLayout.REF, 1 << 20).digest();
        assertThat(fromRegistry.identity()).isEqualTo(registryManifest);
    }

    @Test
    void theMergedViewAppliesWhiteoutsOpaqueDirectoriesAndHardLinksLikeOverlay() throws Exception {
        CompactImageIndex index = LayerDirectoryIndexer.create().index(lowerDirs);
        String busybox = OciLayout.sha256Hex(TestImageLayout.BUSYBOX);

        assertThat(index.lookup("/etc/removed")).isEmpty();
        assertThat(index.lookup("/opt/old/a")).isEmpty();
        assertThat(index.lookup("/opt/old/b")).isEmpty();
        assertThat(index.lookup("/opt/old/c")).isPresent();
        assertThat(index.lookup("/opt/old")).get().extracting(IndexEntry::mode).isEqualTo(0750);
        assertThat(index.lookup("/var/cache/big")).isEmpty();
        assertThat(index.lookup("/var/cache")).isEmpty();
        assertThat(index.lookup("/var/new")).isPresent();
        assertThat(index.lookup("/var")).get().extracting(IndexEntry::mode).isEqualTo(0711);
        assertThat(index.lookup("/etc/passwd")).get().extracting(IndexEntry::mode).isEqualTo(0600);
        assertThat(index.lookup("/app/with\nnewline")).isPresent();
        assertThat(index.lookup("/app/na\u00efve-\u00fcnicode")).isPresent();

        IndexEntry sh = index.resolve("/bin/sh").orElseThrow();
        assertThat(sh.path()).isEqualTo("/usr/bin/sh");
        assertThat(sh.type()).isEqualTo(EntryType.REGULAR);
        assertThat(index.sha256(sh)).isEqualTo(busybox);
        assertThat(index.resolve("/usr/local/bin/ls").orElseThrow().path()).isEqualTo("/usr/bin/busybox");
        assertThat(index.resolve("/bin/cat").orElseThrow().path()).isEqualTo("/usr/bin/busybox");
        assertThat(index.resolve("/bin/sleep").orElseThrow().mode()).isEqualTo(0750);
        assertThat(index.lookup("/bin")).get().extracting(IndexEntry::type).isEqualTo(EntryType.SYMLINK);
        assertThat(index.resolve("/loop1")).isEmpty();
    }

    @Test
    void theProviderServesTheRunningContainersIndexAndItsFilesHashLikeTheContainerSeesThem() throws Exception {
        SharedImageIndexProvider provider = SharedImageIndexProvider.fromLayerDirectories();
        OverlayRoot root = new OverlayRoot(new ContainerMount(0, 0, "/", "/", "overlay", "overlay"), lowerDirs,
                Path.of("/upper-of-" + containerName), Path.of("/work-of-" + containerName));

        ImageIndex index = provider.indexFor(root);
        IndexEntry sleep = index.resolve("/bin/sleep").orElseThrow();
        String seenInContainer = NoFollowRootedFiles.create()
                .sha256(Path.of("/proc/" + taskPid(containerName) + "/root"), "/bin/sleep", 64 << 20)
                .orElse("none: /bin/sleep is a symlink, not followed");
        String resolvedInContainer = NoFollowRootedFiles.create()
                .sha256(Path.of("/proc/" + taskPid(containerName) + "/root"), sleep.path(), 64 << 20).orElseThrow();

        assertThat(sleep.path()).isEqualTo("/usr/bin/busybox");
        assertThat(index.sha256(sleep)).isEqualTo(resolvedInContainer)
                .isEqualTo(OciLayout.sha256Hex(TestImageLayout.BUSYBOX));
        assertThat(seenInContainer).startsWith("none");
        assertThat(NoFollowRootedFiles.resolvingInsideRoot(io.driftagent.agent.fs.NativeFiles.load())
                .sha256(Path.of("/proc/" + taskPid(containerName) + "/root"), "/bin/sleep", 64 << 20))
                .contains(index.sha256(sleep));
        assertThat(provider.imageCount()).isEqualTo(1);
        provider.release(root);
        assertThat(provider.imageCount()).isZero();
    }

    static Map<String, String> describe(CompactImageIndex index) throws IOException {
        Map<String, String> view = new TreeMap<>();
        for (IndexEntry e : index.entries()) {
            String sha = e.type() == EntryType.REGULAR ? index.sha256(e) : "-";
            view.put(e.path(), e.type() + " " + Integer.toOctalString(e.mode()) + " " + e.size() + " " + sha + " "
                    + e.linkTarget());
        }
        return view;
    }

    private static long taskPid(String container) throws Exception {
        for (String line : run("ctr", "-n", NAMESPACE, "task", "ls").split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 3 && fields[0].equals(container)) {
                return Long.parseLong(fields[1]);
            }
        }
        throw new IllegalStateException("no task " + container);
    }

    /** lowerdir= of the root overlay mount in /proc/PID/mountinfo (a test-local parse; production has its own). */
    static List<Path> rootLowerDirs(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"), StandardCharsets.UTF_8)) {
            String[] halves = line.split(" - ", 2);
            String[] mountFields = halves[0].split(" ");
            String[] superFields = halves[1].split(" ");
            if (mountFields[4].equals("/") && superFields[0].equals("overlay")) {
                for (String option : superFields[2].split(",")) {
                    if (option.startsWith("lowerdir=")) {
                        List<Path> dirs = new ArrayList<>();
                        for (String dir : option.substring("lowerdir=".length()).split(":")) {
                            dirs.add(Path.of(dir));
                        }
                        return dirs;
                    }
                }
            }
        }
        throw new IllegalStateException("no root overlay in /proc/" + pid + "/mountinfo");
    }

    static boolean commandWorks(String... command) {
        try {
            return runQuietly(command) == 0;
        } catch (Exception notThere) {
            return false;
        }
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    static int runQuietly(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

}
