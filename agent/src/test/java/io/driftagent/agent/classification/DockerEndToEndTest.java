package io.driftagent.agent.classification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.fs.FakeNioRootedFiles;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
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
@Tag(TestTiers.CONTAINERS)
class DockerEndToEndTest {

    private static final String IMAGE = "drift-attrib-e2e:" + Long.toHexString(System.nanoTime());

    private Path work;
    private Path volume;
    private GenericContainer<?> container;
    private String cid;
    private int pid;

    private HostAttribution host;

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
        host = new HostAttribution();
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

        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();

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
        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();
        int before = host.rootedFiles.stats.get() + host.rootedFiles.reads.get() + host.images.hashes.get();

        Classification result = host.classifier.classify(exec, ctx);

        assertThat(result.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(host.rootedFiles.stats.get() + host.rootedFiles.reads.get() + host.images.hashes.get()).isEqualTo(before);
    }

    @Test
    void copiedInIsAddedOverwrittenIsModifiedChmodOnlyIsImage() throws Exception {
        exec("cp /usr/bin/tool /tmp/true && /tmp/true && cp /bin/busybox /usr/bin/victim && chmod 700 /usr/bin/tool");

        Classification added = host.classifyIn(pid, "/tmp/true");
        Classification modified = host.classifyIn(pid, "/usr/bin/victim");
        ExecEvent chmodded = KernelFacts.execIn(pid, "/usr/bin/tool");
        Classification chmodOnly = host.classifier.classify(chmodded, host.attributor.attribute(chmodded).orElseThrow());

        assertThat(added.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(modified.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(modified.imagePath()).isEqualTo("/usr/bin/victim");
        assertThat(chmodded.flags().upperLayer()).isTrue();
        assertThat(chmodOnly.kind()).isEqualTo(DriftKind.IMAGE);
    }

    @Test
    void aDroppedScriptIsAdded() throws Exception {
        exec("printf '#!/bin/sh\\necho dropped > /tmp/ran\\n' > /tmp/drop.sh && chmod +x /tmp/drop.sh && /tmp/drop.sh");

        Classification result = host.classifyIn(pid, "/tmp/drop.sh");

        assertThat(Path.of("/proc/" + pid + "/root/tmp/ran")).hasContent("dropped");
        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/drop.sh");
    }

    @Test
    void binariesOnATmpfsAndOnABindMountedVolumeAreMount() throws Exception {
        host.attributor.attribute(KernelFacts.execIn(pid, "/bin/busybox")).orElseThrow();
        exec("cp /bin/busybox /scratch/true && /scratch/true");
        Files.copy(BusyboxImage.BUSYBOX, volume.resolve("tool"), StandardCopyOption.REPLACE_EXISTING);
        host.clock.advance(Duration.ofSeconds(2));

        assertThat(host.classifyIn(pid, "/scratch/true").kind()).isEqualTo(DriftKind.MOUNT);
        assertThat(host.classifyIn(pid, "/vol/tool").kind()).isEqualTo(DriftKind.MOUNT);
    }

    @Test
    void aMemfdExecIsFileless() throws Exception {
        Path memfdExec = MemfdExecProgram.compileInto(volume);
        assumeTrue(memfdExec != null, "clang with a static libc is needed to build the memfd exec program");
        HostCommands.run("docker", "exec", "-d", cid, "/vol/memfdexec", "/bin/busybox");
        ExecEvent exec = KernelFacts.execOfRunningExe(MemfdExecProgram.awaitMemfdProcess(cid));

        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(cid);
        assertThat(host.classifier.classify(exec, ctx).kind()).isEqualTo(DriftKind.FILELESS);
    }

    @Test
    void aGoneContainersQueuedExecIsUnresolvedAndAttributedByDevWhenItsProcessIsGone() throws Exception {
        GenericContainer<?> doomed = startContainer();
        int doomedPid = doomed.getContainerInfo().getState().getPidLong().intValue();
        doomed.execInContainer("/bin/cp", "/bin/busybox", "/tmp/late");
        ExecEvent queued = KernelFacts.execIn(doomedPid, "/tmp/late");
        host.attributor.attribute(queued).orElseThrow();

        String doomedId = doomed.getContainerId();
        doomed.stop();
        ContainerContext byDev = host.attributor.attribute(KernelFacts.asFromGoneProcess(queued, KernelFacts.deadPid(), false,
                false)).orElseThrow();
        Classification result = new OverlayDriftClassifier(new FakeNioRootedFiles(), host.images, Path.of("/proc"))
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
