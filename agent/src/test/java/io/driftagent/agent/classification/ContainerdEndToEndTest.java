package io.driftagent.agent.classification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.attribution.ProcContainerAttributor;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.OciLayout;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.fs.FakeNioRootedFiles;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * End to end on real containerd + runc: an OCI image built here and imported, containers started with a
 * Kubernetes-style cgroup, files changed with {@code ctr task exec}, and each exec's event synthesised from the real
 * kernel facts; then attribution (id, runtime, pod, filesystems) and classification are checked per scenario.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.CONTAINERS)
class ContainerdEndToEndTest {

    private static final String IMAGE = "docker.io/drift-attrib/busybox:e2e";

    private final String podUid = UUID.randomUUID().toString();
    private final String cid = ContainerdHost.randomContainerId();
    private final String cgroup = "/kubepods/besteffort/pod" + podUid + "/" + cid;
    private final ContainerdHost containerd = new ContainerdHost("drift-attrib");
    private Path work;
    private Path volume;
    private int pid;

    private HostAttribution host;

    @BeforeAll
    void startAContainerFromAnImportedOciImage() throws Exception {
        assumeTrue(OverlayDriftClassifierTest.isRoot(), "needs root for containerd");
        assumeTrue(ContainerdHost.available(), "containerd is not running (scripts/host-setup.sh starts it)");
        assumeTrue(BusyboxImage.available(), "needs busybox-static at /bin/busybox");
        work = Files.createTempDirectory("drift-attrib-ctr");
        volume = Files.createDirectories(work.resolve("volume"));
        containerd.importBusybox(work, IMAGE);
        pid = containerd.run(IMAGE, cid, "--cgroup", cgroup, "--privileged", "--mount",
                "type=bind,src=" + volume + ",dst=/vol,options=rbind:rw");
        host = new HostAttribution();
    }

    @AfterAll
    void removeContainersAndImage() {
        if (work == null) {
            return;
        }
        containerd.removeAll();
        HostCommands.quietly("rm", "-rf", work.toString());
    }

    @Test
    void attributesAnExecToItsContainerPodAndFilesystemsByTheKernelsCgroupId() throws Exception {
        ExecEvent exec = KernelFacts.execIn(pid, "/bin/busybox");

        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();

        assertThat(exec.cgroupId()).isNotZero();
        assertThat(ctx.id().value()).isEqualTo(cid);
        assertThat(ctx.runtime()).isEqualTo(ContainerRuntime.CONTAINERD);
        assertThat(ctx.podUid()).isEqualTo(podUid);
        assertThat(ctx.cgroupPath()).isEqualTo(cgroup);
        OverlayRoot root = ctx.filesystems().root().orElseThrow();
        assertThat(root.upperDir()).isEqualTo(Path.of(KernelFacts.upperDirOf(pid)));
        assertThat(root.lowerDirs()).hasSize(2).allSatisfy(dir -> assertThat(dir).isDirectory());
        assertThat(root.lowerDirs().get(0).resolve("opt/app/run.sh")).as("top layer first").exists();
        assertThat(root.mount().dev()).isEqualTo(exec.file().dev());
        assertThat(ctx.filesystems().mounts()).anySatisfy(m -> assertThat(m.mountPoint()).isEqualTo("/vol"));
    }

    @Test
    void aHostProcessIsNotAttributed() throws Exception {
        ExecEvent hostExec = KernelFacts.execIn((int) ProcessHandle.current().pid(), "/bin/busybox");

        assertThat(host.attributor.attribute(hostExec)).isEmpty();
    }

    @Test
    void anImageBinaryIsImageFromTheKernelFlagWithoutAnyFileRead() throws Exception {
        ExecEvent exec = KernelFacts.execIn(pid, "/bin/busybox");
        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();
        int statsBefore = host.rootedFiles.stats.get();
        int readsBefore = host.rootedFiles.reads.get();
        int hashesBefore = host.images.hashes.get();

        Classification result = host.classifier.classify(exec, ctx);

        assertThat(exec.flags().overlay()).isTrue();
        assertThat(exec.flags().upperLayer()).isFalse();
        assertThat(result.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(host.rootedFiles.stats.get() - statsBefore).isZero();
        assertThat(host.rootedFiles.reads.get() - readsBefore).isZero();
        assertThat(host.images.hashes.get() - hashesBefore).isZero();
    }

    @Test
    void aCopiedInBinaryIsAdded() throws Exception {
        containerd.exec(cid, "cp /usr/bin/tool /tmp/true && /tmp/true");

        Classification result = host.classifyIn(pid, "/tmp/true");

        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/true");
        assertThat(result.sha256()).isEqualTo(OciLayout.sha256Hex(Files.readAllBytes(BusyboxImage.BUSYBOX)));
    }

    @Test
    void anOverwrittenImageFileIsModifiedWithItsImagePathAndLayer() throws Exception {
        containerd.exec(cid, "cp /bin/busybox /usr/bin/victim");
        ExecEvent exec = KernelFacts.execIn(pid, "/usr/bin/victim");
        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();

        Classification result = host.classifier.classify(exec, ctx);

        assertThat(exec.flags().upperLayer()).isTrue();
        assertThat(result.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(result.imagePath()).isEqualTo("/usr/bin/victim");
        assertThat(result.layer()).isEqualTo(ctx.filesystems().root().orElseThrow().lowerDirs().get(1).toString());
    }

    @Test
    void aChmodOnlyCopyUpOfAnImageBinaryIsImage() throws Exception {
        containerd.exec(cid, "chmod 700 /usr/bin/tool && touch /usr/bin/tool");
        ExecEvent exec = KernelFacts.execIn(pid, "/usr/bin/tool");

        Classification result = host.classifier.classify(exec, host.attributor.attribute(exec).orElseThrow());

        assertThat(exec.flags().upperLayer()).as("chmod copied it up").isTrue();
        assertThat(result.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(result.imagePath()).isEqualTo("/usr/bin/tool");
        assertThat(result.sha256()).isEqualTo(OciLayout.sha256Hex(Files.readAllBytes(BusyboxImage.BUSYBOX)));
    }

    @Test
    void aDroppedScriptIsAddedAndTheScriptNotItsInterpreterIsClassified() throws Exception {
        containerd.exec(cid, "printf '#!/bin/sh\\necho dropped > /tmp/ran\\n' > /tmp/drop.sh && chmod +x /tmp/drop.sh && /tmp/drop.sh");
        ExecEvent script = KernelFacts.execIn(pid, "/tmp/drop.sh");
        ExecEvent shell = KernelFacts.execIn(pid, "/bin/sh");
        ExecEvent exec = new ExecEvent(script.pid(), script.tgid(), script.ppid(), 0, 0, 1, "drop.sh", "/tmp/drop.sh",
                script.file(), shell.file(), script.cgroupId(), script.mountNsId(), script.flags(), script.source(), 1);

        Classification result = host.classifier.classify(exec, host.attributor.attribute(exec).orElseThrow());

        assertThat(Path.of("/proc/" + pid + "/root/tmp/ran")).as("the script ran").hasContent("dropped");
        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/drop.sh");
    }

    @Test
    void aMemfdExecIsFileless() throws Exception {
        Path memfdExec = MemfdExecProgram.compileInto(volume);
        assumeTrue(memfdExec != null, "clang with a static libc is needed to build the memfd exec program");
        HostCommands.run("ctr", "-n", containerd.namespace(), "task", "exec", "-d", "--exec-id", "memfd", cid, "/vol/memfdexec", "/bin/busybox");
        int memfdPid = MemfdExecProgram.awaitMemfdProcess(cid);

        ExecEvent exec = KernelFacts.execOfRunningExe(memfdPid);
        ContainerContext ctx = host.attributor.attribute(exec).orElseThrow();

        assertThat(exec.flags().memfd()).isTrue();
        assertThat(exec.flags().unlinked()).isTrue();
        assertThat(ctx.id().value()).isEqualTo(cid);
        assertThat(host.classifier.classify(exec, ctx).kind()).isEqualTo(DriftKind.FILELESS);
    }

    @Test
    void binariesOnATmpfsMountedLaterAndOnAHostVolumeAreMount() throws Exception {
        host.attributor.attribute(KernelFacts.execIn(pid, "/bin/busybox")).orElseThrow(); // container known before the mount
        containerd.exec(cid, "mount -t tmpfs tmpfs /scratch && cp /bin/busybox /scratch/true && /scratch/true");
        Files.copy(BusyboxImage.BUSYBOX, volume.resolve("tool"), StandardCopyOption.REPLACE_EXISTING);
        host.clock.advance(Duration.ofSeconds(2));

        Classification onTmpfs = host.classifyIn(pid, "/scratch/true");
        Classification onVolume = host.classifyIn(pid, "/vol/tool");

        assertThat(onTmpfs.kind()).isEqualTo(DriftKind.MOUNT);
        assertThat(onTmpfs.reason()).contains("tmpfs", "/scratch");
        assertThat(onTmpfs.sha256()).isEqualTo(OciLayout.sha256Hex(Files.readAllBytes(BusyboxImage.BUSYBOX)));
        assertThat(onVolume.kind()).isEqualTo(DriftKind.MOUNT);
        assertThat(onVolume.reason()).contains("/vol");
    }

    @Test
    void anExecWhoseProcessIsGoneIsAttributedByMountNamespaceOrDevice() throws Exception {
        ExecEvent live = KernelFacts.execIn(pid, "/bin/busybox");
        host.attributor.attribute(live).orElseThrow();
        int dead = KernelFacts.deadPid();

        ContainerContext byNs = host.attributor.attribute(KernelFacts.asFromGoneProcess(live, dead, false, true)).orElseThrow();
        ContainerContext byDev = host.attributor.attribute(KernelFacts.asFromGoneProcess(live, dead, false, false)).orElseThrow();

        assertThat(byNs.id().value()).isEqualTo(cid);
        assertThat(byDev.id().value()).isEqualTo(cid);
        assertThat(host.attributor.stats().get("mount_ns")).isPositive();
        assertThat(host.attributor.stats().get("dev")).isPositive();
    }

    @Test
    void aContainerFirstSeenAfterItsProcessExitedIsAttributedByCgroupIdWithTheMountsOfItsLiveInit() throws Exception {
        ExecEvent live = KernelFacts.execIn(pid, "/tmp/../bin/busybox");
        ProcContainerAttributor fresh = ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), host.clock, c -> { });

        ContainerContext ctx = fresh.attribute(KernelFacts.asFromGoneProcess(live, KernelFacts.deadPid(), true, true))
                .orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(cid);
        assertThat(ctx.filesystems()).as("read through another process of the container's cgroup").isNotNull();
        assertThat(ctx.filesystems().root().orElseThrow().upperDir()).isEqualTo(Path.of(KernelFacts.upperDirOf(pid)));
    }

    @Test
    void aContainerWithNoProcessLeftIsAttributedWithTheRootOverlayTheHostStillMountsAndItsDropIsAdded()
            throws Exception {
        String exitedId = ContainerdHost.randomContainerId();
        int exitedPid = containerd.run(IMAGE, exitedId, "--cgroup",
                "/kubepods/besteffort/pod" + UUID.randomUUID() + "/" + exitedId);
        containerd.exec(exitedId, "cp /usr/bin/tool /tmp/true && /tmp/true");
        ExecEvent drop = KernelFacts.execIn(exitedPid, "/tmp/true");
        String upper = KernelFacts.upperDirOf(exitedPid);
        HostCommands.run("ctr", "-n", containerd.namespace(), "task", "kill", "-s", "SIGKILL", exitedId);
        for (int i = 0; i < 100 && Files.exists(Path.of("/proc/" + exitedPid)); i++) {
            Thread.sleep(50); // the task is stopped, not deleted: its rootfs stays mounted on the host
        }
        ProcContainerAttributor fresh = ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), host.clock,
                c -> { });

        ContainerContext ctx = fresh.attribute(KernelFacts.asFromGoneProcess(drop, KernelFacts.deadPid(), true, true))
                .orElseThrow();
        Classification result = host.classifier.classify(drop, ctx);

        assertThat(Path.of("/proc/" + exitedPid)).as("no process left").doesNotExist();
        assertThat(ctx.id().value()).isEqualTo(exitedId);
        assertThat(ctx.filesystems()).as("root overlay from the host's mount table").isNotNull();
        assertThat(ctx.filesystems().root().orElseThrow().upperDir()).isEqualTo(Path.of(upper));
        assertThat(fresh.stats().get("roots_from_host_mounts")).isEqualTo(1L);
        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/true");
        containerd.remove(exitedId);
    }

    @Test
    void aNeverSeenContainerWithNoProcessLeftIsAttributedByTheRootfsItsRuntimeStillMountsWithoutACgroupId()
            throws Exception {
        String exitedId = ContainerdHost.randomContainerId();
        int exitedPid = containerd.run(IMAGE, exitedId, "--cgroup",
                "/kubepods/besteffort/pod" + UUID.randomUUID() + "/" + exitedId);
        containerd.exec(exitedId, "cp /usr/bin/tool /tmp/true && /tmp/true");
        ExecEvent drop = KernelFacts.execIn(exitedPid, "/tmp/true");
        HostCommands.run("ctr", "-n", containerd.namespace(), "task", "kill", "-s", "SIGKILL", exitedId);
        for (int i = 0; i < 100 && Files.exists(Path.of("/proc/" + exitedPid)); i++) {
            Thread.sleep(50);
        }
        ProcContainerAttributor fresh = ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), host.clock,
                c -> { });
        // as the fanotify source reports it when the process is gone: no cgroup id, no mount namespace
        ExecEvent reported = KernelFacts.asFromGoneProcess(drop, KernelFacts.deadPid(), false, false);

        ContainerContext ctx = fresh.attribute(reported).orElseThrow();
        Classification result = host.classifier.classify(reported, ctx);

        assertThat(ctx.id().value()).isEqualTo(exitedId);
        assertThat(fresh.stats().get("rootfs_mount")).isEqualTo(1L);
        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/true");
        containerd.remove(exitedId);
    }

    @Test
    void aPlainCtrRunContainerIsAttributedByNamespaceAndName() throws Exception {
        String name = "drift-attrib-plain-" + ThreadLocalRandom.current().nextInt(1_000_000);
        int plainPid = containerd.run(IMAGE, name);

        ContainerContext ctx = host.attributor.attribute(KernelFacts.execIn(plainPid, "/bin/busybox")).orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(name);
        assertThat(ctx.cgroupPath()).isEqualTo("/" + containerd.namespace() + "/" + name);
        assertThat(ctx.podUid()).isNull();
        assertThat(ctx.filesystems().root()).isPresent();
    }

    @Test
    void aGoneContainersQueuedDropIsAddedFromTheImageAloneThenTheContainerIsForgottenAndItsIndexReleased()
            throws Exception {
        String goneId = ContainerdHost.randomContainerId();
        String gonePod = UUID.randomUUID().toString();
        int gonePid = containerd.run(IMAGE, goneId, "--cgroup", "/kubepods/burstable/pod" + gonePod + "/" + goneId);
        containerd.exec(goneId, "cp /bin/busybox /tmp/late");
        ExecEvent queued = KernelFacts.execIn(gonePid, "/tmp/late");
        host.attributor.attribute(queued).orElseThrow();
        int releasesBefore = host.images.releases.get();

        Path upper = Path.of(KernelFacts.upperDirOf(gonePid));
        containerd.remove(goneId);
        for (int i = 0; i < 100 && Files.exists(upper); i++) {
            Thread.sleep(100); // containerd removes the snapshot in its garbage collection, shortly after
        }
        ContainerContext ctx = host.attributor.attribute(queued).orElseThrow();
        Classification result = new OverlayDriftClassifier(new FakeNioRootedFiles(), host.images, Path.of("/proc"))
                .classify(queued, ctx);
        host.attributor.sweep();
        host.clock.advance(Duration.ofSeconds(61));
        host.attributor.sweep();

        assertThat(ctx.id().value()).isEqualTo(goneId);
        assertThat(result.kind()).as("the kernel: writable layer; the image: no /tmp/late").isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/late");
        assertThat(result.reason()).contains("container gone");
        assertThat(host.forgotten).anySatisfy(c -> assertThat(c.id().value()).isEqualTo(goneId));
        assertThat(host.attributor.isTracked(ctx.id())).isFalse();
        assertThat(host.attributor.attribute(queued)).as("nothing left to attribute it by").isEmpty();
        assertThat(host.images.releases.get()).isGreaterThanOrEqualTo(releasesBefore);
    }
}
