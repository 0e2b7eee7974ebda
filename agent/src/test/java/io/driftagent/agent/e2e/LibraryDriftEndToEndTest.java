package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.OciLayout;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * Library drift in the whole agent (standalone, eBPF source, a real containerd container): a shared library dropped
 * into a running container and loaded into an image binary, by {@code LD_PRELOAD} or by {@code dlopen}, is a
 * {@code LibraryDrift} alert naming the library and the image binary that loaded it; the image's own libraries, which
 * every dynamically linked exec maps, are never alerted; a rule that targets library loads can allow one.
 *
 * <p>The image is built here from the host's toolchain: busybox for the shell, two dynamically linked programs
 * compiled with gcc ({@code /usr/bin/app} does nothing, {@code /usr/bin/loader} dlopens its argument), and the
 * libraries {@code ldd} names for them (libc, ld.so) plus libm, at their host paths. The dropped library is compiled
 * on the host and copied into the container's writable layer from a read-only bind mount.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class LibraryDriftEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/libdrift:dyn";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);
    private static final String POLICY = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: vetted-plugins
                priority: 10
                description: a plugin the team ships in /tmp may be loaded, not run
                action: alert
                triggers: [library]
                allowList: ["glob:/tmp/vetted*"]
            defaultRule:
              action: alert
            """;
    private static final String APP_SOURCE = "int main(void) { return 0; }\n";
    private static final String LOADER_SOURCE = """
            #include <dlfcn.h>
            #include <stdio.h>
            int main(int argc, char **argv) {
                if (argc < 2) return 2;
                void *handle = dlopen(argv[1], RTLD_NOW);
                if (!handle) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
                return 0;
            }
            """;
    /** Maps its argument readable only, then makes the mapping executable: a loader that never mmaps PROT_EXEC. */
    private static final String MPROTECT_SOURCE = """
            #include <fcntl.h>
            #include <stdio.h>
            #include <sys/mman.h>
            #include <sys/stat.h>
            int main(int argc, char **argv) {
                if (argc < 2) return 2;
                int fd = open(argv[1], O_RDONLY);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) != 0) { perror("open"); return 1; }
                void *p = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (p == MAP_FAILED) { perror("mmap"); return 1; }
                if (mprotect(p, st.st_size, PROT_READ | PROT_EXEC) != 0) { perror("mprotect"); return 1; }
                return 0;
            }
            """;
    private static final String LIBRARY_SOURCE = """
            static int loaded;
            __attribute__((constructor)) static void on_load(void) { loaded = 1; }
            int evil_loaded(void) { return loaded; }
            """;
    private static final List<String> APPLETS = List.of("sh", "cp", "true", "sleep", "cat", "rm", "ls", "echo");

    private final String target = "lib-e2e-" + ThreadLocalRandom.current().nextInt(1_000_000);

    private ContainerdStage stage;
    private ContainerdHost containerd;
    private Path work;
    private AlertLog alerts;
    private final Set<String> imageLibraries = new LinkedHashSet<>();

    /** The exec source under test. */
    String source() {
        return "ebpf";
    }

    /** For subclasses: the alerts so far. */
    AlertLog alertLog() {
        return alerts;
    }

    String target() {
        return target;
    }

    ContainerdHost containerd() {
        return containerd;
    }

    @BeforeAll
    void startAContainerOfADynamicallyLinkedImageAndTheAgent() throws Exception {
        stage = ContainerdStage.prepare("lib-e2e");
        containerd = stage.containerd();
        work = stage.work();
        alerts = stage.alerts();
        Path build = Files.createDirectories(work.resolve("build"));
        Path helpers = Files.createDirectories(work.resolve("helpers"));
        compile(build, "app.c", APP_SOURCE, build.resolve("app"));
        compile(build, "loader.c", LOADER_SOURCE, build.resolve("loader"), "-ldl");
        compile(build, "mprot.c", MPROTECT_SOURCE, build.resolve("mprot"));
        compile(build, "evil.c", LIBRARY_SOURCE, helpers.resolve("evil.so"), "-shared", "-fPIC");

        Path layer = Files.createDirectories(work.resolve("layer"));
        writeLayer(layer, build);
        Path layerTar = work.resolve("layer.tar");
        HostCommands.run("tar", "-C", layer.toString(), "--numeric-owner", "--owner=0", "--group=0", "-cf",
                layerTar.toString(), ".");
        Path oci = Files.createDirectories(work.resolve("oci"));
        OciLayout.write(oci, IMAGE, "dyn", List.of("/bin/sleep", "600"),
                List.of(new OciLayout.Layer(Files.readAllBytes(layerTar), OciLayout.Compression.NONE)));
        Path archive = work.resolve("image.tar");
        HostCommands.run("tar", "-C", oci.toString(), "-cf", archive.toString(), ".");
        HostCommands.run("ctr", "-n", containerd.namespace(), "images", "import", archive.toString());
        stage.onClose(() -> HostCommands.quietly("ctr", "-n", containerd.namespace(), "images", "rm", IMAGE));
        // a tmpfs the container sees twice: at /noexec (noexec) and at /exec (exec allowed)
        Path sharedMount = Files.createDirectories(work.resolve("shared"));
        HostCommands.run("mount", "-t", "tmpfs", "-o", "size=4m", "lib-e2e", sharedMount.toString());
        stage.onClose(() -> HostCommands.quietly("umount", sharedMount.toString()));
        Files.copy(helpers.resolve("evil.so"), sharedMount.resolve("twice.so"));
        Files.copy(helpers.resolve("evil.so"), sharedMount.resolve("late.so"));
        containerd.run(IMAGE, target, "--mount", "type=bind,src=" + helpers + ",dst=/helpers,options=rbind:ro",
                "--mount", "type=bind,src=" + sharedMount + ",dst=/noexec,options=rbind:ro:noexec",
                "--mount", "type=bind,src=" + sharedMount + ",dst=/exec,options=rbind:ro");
        // the image's programs run in the container before the agent watches: the image is sound
        containerd.exec(target, "/usr/bin/app && /usr/bin/loader " + libm());

        stage.startAgent(source(), POLICY);
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void aDroppedLibraryPreloadedIntoAnImageBinaryIsLibraryDriftAddedWithTheImageBinaryAsExe() throws Exception {
        // given a library dropped into the container's writable layer
        // when an image binary runs with it preloaded (the binary exits at once)
        containerd.exec(target, "cp /helpers/evil.so /tmp/evil.so && LD_PRELOAD=/tmp/evil.so /usr/bin/app preloaded");

        // then one LibraryDrift alert names the library, and the image binary as the process
        JsonNode alert = awaitAlert("/tmp/evil.so");
        assertThat(alert.path("alertType").asString()).as(alert.toString()).isEqualTo("LibraryDrift");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("drift").path("sha256").asString())
                .isEqualTo(OciLayout.sha256Hex(Files.readAllBytes(work.resolve("helpers/evil.so"))));
        assertThat(alert.path("action").asString()).isEqualTo("alert");
        assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo("/usr/bin/app");
        assertThat(AlertLog.strings(alert.path("process").path("cmdline"))).containsExactly("/usr/bin/app", "preloaded");
        assertThat(ids(alert.path("mitre"))).as(alert.toString()).contains("T1574.006", "T1105");
        Thread.sleep(300); // a second record or alert for the same load would be here by now
        assertThat(alerts.alerts().stream().filter(AlertLog.forPath(target, "/tmp/evil.so")).count())
                .as("one alert for one load: %s", alerts).isEqualTo(1);
    }

    @Test
    void aDroppedLibraryAnImageProgramDlopensIsLibraryDrift() throws Exception {
        // given a library dropped into the container; when an image program dlopen()s it
        containerd.exec(target, "cp /helpers/evil.so /tmp/plugin.so && /usr/bin/loader /tmp/plugin.so");

        // then
        JsonNode alert = awaitAlert("/tmp/plugin.so");
        assertThat(alert.path("alertType").asString()).as(alert.toString()).isEqualTo("LibraryDrift");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo("/usr/bin/loader");
        assertThat(AlertLog.strings(alert.path("process").path("cmdline"))).containsExactly("/usr/bin/loader", "/tmp/plugin.so");
    }

    @Test
    void theImagesOwnLibrariesThatEveryExecMapsAreNeverAlerted() throws Exception {
        // given the image's programs run many ways: linked against libc by ld.so, ld.so run as a program (it maps
        // the program itself), an image library dlopen()ed, an image library mapped and made executable by mprotect
        // (the mapping's file is then overlay's file of the lower layer, not the container's view of it)
        containerd.exec(target, "for i in 1 2 3 4 5; do /usr/bin/app; done; " + ldSo() + " /usr/bin/app; "
                + "/usr/bin/loader " + libm() + "; /usr/bin/loader /usr/bin/app; /usr/bin/mprot " + libm() + "; true");
        // and then a dropped library, the marker that the agent handled what came before
        containerd.exec(target, "cp /helpers/evil.so /tmp/marker.so && LD_PRELOAD=/tmp/marker.so /usr/bin/app");

        // then the marker is alerted
        awaitAlert("/tmp/marker.so");
        // and nothing of the image is: no alert names an image file, library or binary
        List<String> paths = new ArrayList<>();
        for (JsonNode a : alerts.alerts()) {
            if (target.equals(a.path("container").path("id").asString())) {
                paths.add(a.path("drift").path("path").asString());
            }
        }
        assertThat(paths).as("alerted paths in %s", alerts).allMatch(p -> p.startsWith("/tmp/") || p.startsWith("/exec/"))
                .doesNotContainAnyElementsOf(imageLibraries);
    }

    @Test
    void aRuleForLibraryLoadsAllowsTheVettedLibraryButNotTheSameNameExecuted() throws Exception {
        // given the policy's rule 'vetted-plugins': library loads of /tmp/vetted* are allowed
        // when a vetted library is preloaded, then a binary of the same name pattern runs, then another drop loads
        containerd.exec(target, "cp /helpers/evil.so /tmp/vetted.so && LD_PRELOAD=/tmp/vetted.so /usr/bin/app");
        containerd.exec(target, "cp /bin/busybox /tmp/vetted-tool && /tmp/vetted-tool true; true");
        containerd.exec(target, "cp /helpers/evil.so /tmp/unvetted.so && /usr/bin/loader /tmp/unvetted.so");

        // then the executed binary is drift (the rule targets library loads only), the other library too
        JsonNode binary = awaitAlert("/tmp/vetted-tool");
        assertThat(binary.path("alertType").asString()).isEqualTo("BinaryDrift");
        assertThat(binary.path("rule").path("name").asString()).isEqualTo("default");
        JsonNode other = awaitAlert("/tmp/unvetted.so");
        assertThat(other.path("alertType").asString()).isEqualTo("LibraryDrift");
        // and the vetted library, loaded before both, is not alerted
        assertThat(alerts.alerts()).as("no alert for the allowed library: %s", alerts)
                .noneMatch(AlertLog.forPath(target, "/tmp/vetted.so"));
    }

    @Test
    void aLibraryTheKernelRefusesToMapFromANoexecMountIsNotAlertedButTheSameFileFromAnExecMountIs() throws Exception {
        // given one library file the container sees on a noexec mount and on an exec mount
        // when an image program dlopen()s it from the noexec mount (the kernel refuses: nothing is loaded), and
        // makes a mapping of it executable by mprotect (refused too), then loads it from the exec mount
        String refused = containerd.exec(target, "/usr/bin/loader /noexec/twice.so; echo rc=$?; "
                + "/usr/bin/mprot /noexec/late.so; echo rc=$?");
        containerd.exec(target, "/usr/bin/loader /exec/twice.so");

        // then the kernel did refuse the noexec loads
        assertThat(refused).as("dlopen and mprotect from the noexec mount fail").doesNotContain("rc=0");
        // and the load from the exec mount is alerted (it came last: an alert for the refused ones would be out)
        JsonNode alert = awaitAlert("/exec/twice.so");
        assertThat(alert.path("alertType").asString()).as(alert.toString()).isEqualTo("LibraryDrift");
        assertThat(alert.path("process").path("exe").asString()).isEqualTo("/usr/bin/loader");
        Thread.sleep(300);
        assertThat(alerts.alerts()).as("no alert for a refused mapping: %s", alerts)
                .noneMatch(AlertLog.forPath(target, "/noexec/twice.so"))
                .noneMatch(AlertLog.forPath(target, "/noexec/late.so"));
    }

    @Test
    void aDroppedFileMappedReadableThenMadeExecutableByMprotectIsLibraryDrift() throws Exception {
        // given a file dropped into the container's writable layer
        // when an image program maps it PROT_READ and then mprotects the mapping PROT_EXEC (no executable mmap)
        containerd.exec(target, "cp /helpers/evil.so /tmp/mprotected.so && /usr/bin/mprot /tmp/mprotected.so");

        // then one LibraryDrift alert names the file and the program
        JsonNode alert = awaitAlert("/tmp/mprotected.so");
        assertThat(alert.path("alertType").asString()).as(alert.toString()).isEqualTo("LibraryDrift");
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo("ADDED");
        assertThat(alert.path("process").path("exe").asString()).as(alert.toString()).isEqualTo("/usr/bin/mprot");
        assertThat(AlertLog.strings(alert.path("process").path("cmdline")))
                .containsExactly("/usr/bin/mprot", "/tmp/mprotected.so");
        Thread.sleep(300);
        assertThat(alerts.alerts().stream().filter(AlertLog.forPath(target, "/tmp/mprotected.so")).count())
                .as("one alert for one load: %s", alerts).isEqualTo(1);
    }

    JsonNode awaitAlert(String path) throws Exception {
        return stage.awaitAlert(target, path, ALERT_WAIT);
    }

    private static void compile(Path dir, String name, String source, Path out, String... flags) throws IOException {
        Path file = Files.writeString(dir.resolve(name), source);
        List<String> command = new ArrayList<>(List.of("cc", "-O2", "-o", out.toString(), file.toString()));
        command.addAll(List.of(flags));
        assertThat(HostCommands.works(command.toArray(String[]::new)))
                .as("%s builds (gcc, libc6-dev)", String.join(" ", command)).isTrue();
    }

    /** busybox and its applets, the two programs, and every library ldd names for them (plus libm), at host paths. */
    private void writeLayer(Path layer, Path build) throws IOException {
        for (String d : List.of("bin", "usr/bin", "tmp", "etc", "proc", "sys", "dev", "run", "noexec", "exec")) {
            Files.createDirectories(layer.resolve(d));
        }
        Files.setPosixFilePermissions(layer.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.copy(BusyboxImage.BUSYBOX, layer.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : APPLETS) {
            Files.createSymbolicLink(layer.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.copy(build.resolve("app"), layer.resolve("usr/bin/app"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(build.resolve("loader"), layer.resolve("usr/bin/loader"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(build.resolve("mprot"), layer.resolve("usr/bin/mprot"), StandardCopyOption.COPY_ATTRIBUTES);
        Set<String> libraries = new LinkedHashSet<>();
        for (String program : List.of("app", "loader", "mprot")) {
            for (String line : HostCommands.run("ldd", build.resolve(program).toString()).split("\n")) {
                for (String word : line.trim().split("\\s+")) {
                    if (word.startsWith("/")) {
                        libraries.add(word);
                    }
                }
            }
        }
        libraries.add(libm());
        for (String library : libraries) {
            Path inLayer = layer.resolve(library.substring(1));
            Files.createDirectories(inLayer.getParent());
            Files.copy(Path.of(library), inLayer); // the file itself, not the host's symlink
            Files.setPosixFilePermissions(inLayer, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        imageLibraries.addAll(libraries);
        assertThat(imageLibraries).as("ldd names libc and ld.so").anyMatch(l -> l.contains("libc.so"))
                .anyMatch(l -> l.contains("ld-linux"));
    }

    private static String libm() {
        return Files.exists(Path.of("/lib/x86_64-linux-gnu/libm.so.6")) ? "/lib/x86_64-linux-gnu/libm.so.6"
                : "/lib/aarch64-linux-gnu/libm.so.6";
    }

    private String ldSo() {
        return imageLibraries.stream().filter(l -> l.contains("ld-linux")).findFirst().orElseThrow();
    }


    private static List<String> ids(JsonNode mitre) {
        List<String> out = new ArrayList<>();
        mitre.forEach(n -> out.add(n.path("id").asString()));
        return out;
    }
}
