package io.driftagent.agent.classify;

import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fs.FakeNioRootedFiles;
import io.driftagent.agent.image.FakeLayerDirsImageIndexProvider;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.proc.ContainerRuntime;
import io.driftagent.agent.proc.OverlayRoot;
import io.driftagent.agent.proc.ProcContainerAttributor;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.images.PullPolicy;
import org.testcontainers.utility.DockerImageName;

/**
 * End to end on Docker (overlay2, {@code l/} short layer links, cgroupfs driver) through Testcontainers: a FROM
 * scratch image built from busybox-static, files changed with exec, events synthesised from real kernel facts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerEndToEndTest {

    private static final String IMAGE = "drift-attrib-e2e:" + Long.toHexString(System.nanoTime());

    private Path work;
    private Path volume;
    private GenericContainer<?> container;
    private String cid;
    private int pid;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<ContainerContext> forgotten = new CopyOnWriteArrayList<>();
    private final FakeNioRootedFiles rootedFiles = new FakeNioRootedFiles();
    private final FakeLayerDirsImageIndexProvider images = new FakeLayerDirsImageIndexProvider();
    private OverlayDriftClassifier classifier;
    private ProcContainerAttributor attributor;

    @BeforeAll
    void startAFromScratchBusyboxContainer() throws Exception {
        assumeTrue(OverlayDriftClassifierTest.isRoot(), "needs root to read other processes' /proc");
        assumeTrue(BusyboxImage.available(), "needs busybox-static at /bin/busybox");
        assumeTrue(dockerAvailable(), "Docker is not reachable (scripts/host-setup.sh starts dockerd)");
        work = Files.createTempDirectory("drift-attrib-docker");
        volume = Files.createDirectories(work.resolve("volume"));
        HostCommands.run("docker", "build", "-q", "-t", IMAGE, BusyboxImage.writeDockerContext(work.resolve("context")).toString());
        container = startContainer();
        cid = container.getContainerId();
        pid = container.getContainerInfo().getState().getPidLong().intValue();
        classifier = new OverlayDriftClassifier(rootedFiles, images, Path.of("/proc"));
        attributor = ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), clock, ctx -> {
            forgotten.add(ctx);
            classifier.containerGone(ctx);
        });
    }

    @AfterAll
    void stop() {
        if (container != null) {
            container.stop();
        }
        if (work != null) {
            HostCommands.quietly("docker", "rmi", "-f", IMAGE);
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void attributesToTheDockerContainerWithOverlay2ShortLinksResolvedToLayerDirs() throws Exception {
        ExecEvent exec = KernelFacts.execIn(pid, "/bin/busybox");

        ContainerContext ctx = attributor.attribute(exec).orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(cid);
        assertThat(ctx.runtime()).isEqualTo(ContainerRuntime.DOCKER);
        assertThat(ctx.podUid()).isNull();
        OverlayRoot root = ctx.filesystems().root().orElseThrow();
        assertThat(root.upperDir()).isEqualTo(Path.of(KernelFacts.upperDirOf(pid)));
        assertThat(root.lowerDirs()).hasSize(3).allSatisfy(dir -> {
            assertThat(dir.toString()).doesNotContain("/l/").endsWith("/diff");
            assertThat(dir).isDirectory();
        });
        assertThat(root.lowerDirs().get(0).toString()).as("the init layer is on top").endsWith("-init/diff");
        assertThat(root.lowerDirs().get(2).resolve("bin/busybox")).exists();
        assertThat(ctx.filesystems().mounts()).anySatisfy(m -> assertThat(m.mountPoint()).isEqualTo("/vol"));
    }

    @Test
    void anImageBinaryIsImageWithoutAnyFileRead() throws Exception {
        ExecEvent exec = KernelFacts.execIn(pid, "/bin/busybox");
        ContainerContext ctx = attributor.attribute(exec).orElseThrow();
        int before = rootedFiles.stats.get() + rootedFiles.reads.get() + images.hashes.get();

        Classification result = classifier.classify(exec, ctx);

        assertThat(result.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(rootedFiles.stats.get() + rootedFiles.reads.get() + images.hashes.get()).isEqualTo(before);
    }

    @Test
    void copiedInIsAddedOverwrittenIsModifiedChmodOnlyIsImage() throws Exception {
        exec("cp /usr/bin/tool /tmp/true && /tmp/true && cp /bin/busybox /usr/bin/victim && chmod 700 /usr/bin/tool");

        Classification added = classifyIn("/tmp/true");
        Classification modified = classifyIn("/usr/bin/victim");
        ExecEvent chmodded = KernelFacts.execIn(pid, "/usr/bin/tool");
        Classification chmodOnly = classifier.classify(chmodded, attributor.attribute(chmodded).orElseThrow());

        assertThat(added.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(modified.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(modified.imagePath()).isEqualTo("/usr/bin/victim");
        assertThat(chmodded.flags().upperLayer()).isTrue();
        assertThat(chmodOnly.kind()).isEqualTo(DriftKind.IMAGE);
    }

    @Test
    void aDroppedScriptIsAdded() throws Exception {
        exec("printf '#!/bin/sh\\necho dropped > /tmp/ran\\n' > /tmp/drop.sh && chmod +x /tmp/drop.sh && /tmp/drop.sh");

        Classification result = classifyIn("/tmp/drop.sh");

        assertThat(Path.of("/proc/" + pid + "/root/tmp/ran")).hasContent("dropped");
        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/drop.sh");
    }

    @Test
    void binariesOnATmpfsAndOnABindMountedVolumeAreMount() throws Exception {
        attributor.attribute(KernelFacts.execIn(pid, "/bin/busybox")).orElseThrow();
        exec("cp /bin/busybox /scratch/true && /scratch/true");
        Files.copy(BusyboxImage.BUSYBOX, volume.resolve("tool"), StandardCopyOption.REPLACE_EXISTING);
        clock.advance(Duration.ofSeconds(2));

        assertThat(classifyIn("/scratch/true").kind()).isEqualTo(DriftKind.MOUNT);
        assertThat(classifyIn("/vol/tool").kind()).isEqualTo(DriftKind.MOUNT);
    }

    @Test
    void aMemfdExecIsFileless() throws Exception {
        Path memfdExec = MemfdExecProgram.compileInto(volume);
        assumeTrue(memfdExec != null, "clang with a static libc is needed to build the memfd exec program");
        HostCommands.run("docker", "exec", "-d", cid, "/vol/memfdexec", "/bin/busybox");
        ExecEvent exec = KernelFacts.execOfRunningExe(MemfdExecProgram.awaitMemfdProcess(cid));

        ContainerContext ctx = attributor.attribute(exec).orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(cid);
        assertThat(classifier.classify(exec, ctx).kind()).isEqualTo(DriftKind.FILELESS);
    }

    @Test
    void aGoneContainersQueuedExecIsUnresolvedAndAttributedByDevWhenItsProcessIsGone() throws Exception {
        GenericContainer<?> doomed = startContainer();
        int doomedPid = doomed.getContainerInfo().getState().getPidLong().intValue();
        doomed.execInContainer("/bin/cp", "/bin/busybox", "/tmp/late");
        ExecEvent queued = KernelFacts.execIn(doomedPid, "/tmp/late");
        attributor.attribute(queued).orElseThrow();

        String doomedId = doomed.getContainerId();
        doomed.stop();
        ContainerContext byDev = attributor.attribute(KernelFacts.asFromGoneProcess(queued, KernelFacts.deadPid(), false,
                false)).orElseThrow();
        Classification result = new OverlayDriftClassifier(new FakeNioRootedFiles(), images, Path.of("/proc"))
                .classify(queued, byDev);

        assertThat(byDev.id().value()).isEqualTo(doomedId);
        assertThat(result.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(result.reason()).contains("container gone");
    }

    /** Built with the docker CLI (Testcontainers' own builder would try to pull "scratch" from Docker Hub). */
    private GenericContainer<?> startContainer() {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withImagePullPolicy(PullPolicy.defaultPolicy())
                .withNetworkMode("none")
                .withTmpFs(Map.of("/scratch", "rw,exec"))
                // a bind set on the create command: withFileSystemBind would first probe with an alpine image (no Hub here)
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withBinds(new Bind(volume.toString(), new Volume("/vol"))))
                .withCommand("/bin/sleep", "600");
        c.start();
        return c;
    }

    private Classification classifyIn(String path) throws IOException {
        ExecEvent exec = KernelFacts.execIn(pid, path);
        return classifier.classify(exec, attributor.attribute(exec).orElseThrow());
    }

    private void exec(String script) throws Exception {
        Container.ExecResult result = container.execInContainer("/bin/sh", "-c", script);
        assertThat(result.getExitCode()).as(result.getStderr()).isZero();
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
