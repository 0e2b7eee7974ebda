package io.driftagent.agent.classification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerFilesystems;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.fs.FakeNioRootedFiles;
import io.driftagent.agent.image.FakeLayerDirsImageIndexProvider;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier against a REAL overlay mount (two lower layers, an upper, a tmpfs "volume"), with exec facts taken
 * from stat(2) of the merged view and the upper flag from the upper layer, as the kernel would report them.
 */
@Tag(TestTiers.KERNEL)
class OverlayDriftClassifierTest {

    private static final int TGID = 4242;

    @TempDir
    Path tmp;
    private Path base;
    private Path top;
    private Path upper;
    private Path merged;
    private Path volume;
    private Path fakeProc;
    private final FakeNioRootedFiles rootedFiles = new FakeNioRootedFiles();
    private final FakeLayerDirsImageIndexProvider images = new FakeLayerDirsImageIndexProvider();
    private OverlayDriftClassifier classifier;
    private ContainerContext container;

    @BeforeEach
    void mountAnOverlayLikeAContainerRoot() throws Exception {
        assumeTrue(isRoot(), "needs root to mount overlayfs and tmpfs");
        base = Files.createDirectories(tmp.resolve("layers/1"));
        top = Files.createDirectories(tmp.resolve("layers/2"));
        upper = Files.createDirectories(tmp.resolve("upper"));
        Path work = Files.createDirectories(tmp.resolve("work"));
        merged = Files.createDirectories(tmp.resolve("merged"));
        Files.createDirectories(base.resolve("usr/bin"));
        Files.createDirectories(base.resolve("tmp"));
        Files.createDirectories(base.resolve("data"));
        Files.write(base.resolve("usr/bin/tool"), bytes("image tool v1", 5000));
        Files.write(base.resolve("usr/bin/other"), bytes("image other", 3000));
        Files.createSymbolicLink(base.resolve("bin"), Path.of("usr/bin"));
        Files.createDirectories(top.resolve("usr/bin"));
        Files.write(top.resolve("usr/bin/tool"), bytes("image tool v2", 5000)); // layer 2 replaces layer 1's
        run("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + top + ":" + base + ",upperdir=" + upper
                + ",workdir=" + work, merged.toString());
        volume = merged.resolve("data");
        run("mount", "-t", "tmpfs", "tmpfs", volume.toString());
        fakeProc = Files.createDirectories(tmp.resolve("proc/" + TGID));
        Files.createSymbolicLink(fakeProc.resolve("root"), merged);
        // as the kernel shows it to a reader on the host: the rootfs host path plus the container path
        Files.createSymbolicLink(fakeProc.resolve("cwd"), merged.resolve("usr/bin"));

        long overlayDev = dev(merged);
        OverlayRoot root = new OverlayRoot(new ContainerMount(100, overlayDev, "/", "/", "overlay", "overlay"),
                List.of(top, base), upper, work);
        ContainerFilesystems fs = new ContainerFilesystems(Optional.of(root),
                List.of(new ContainerMount(101, dev(volume), "/data", "/", "tmpfs", "tmpfs")));
        container = new ContainerContext(new ContainerId("unit-1"), ContainerRuntime.CONTAINERD, "/drift/unit-1", null, fs);
        classifier = new OverlayDriftClassifier(rootedFiles, images, tmp.resolve("proc"), 1 << 20, 100);
    }

    @AfterEach
    void unmount() throws Exception {
        if (merged != null && isRoot()) {
            new ProcessBuilder("umount", volume.toString()).start().waitFor();
            new ProcessBuilder("umount", merged.toString()).start().waitFor();
        }
    }

    @Test
    void anImageBinaryIsImageByTheKernelFlagWithoutReadingAnyFile() throws Exception {
        ExecEvent exec = execOf("/usr/bin/tool");

        Classification result = classifier.classify(exec, container);

        assertThat(exec.flags().upperLayer()).isFalse();
        assertThat(result.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(rootedFiles.stats.get() + rootedFiles.reads.get()).isZero();
        assertThat(images.builds.get() + images.hashes.get()).isZero();
    }

    @Test
    void theKernelsOverlayFlagWinsOverADeviceNumberThatABindMountShares() throws Exception {
        ExecEvent image = execOf("/usr/bin/tool");
        long hostDisk = MountInfoDevs.HOST_DISK;
        ContainerFilesystems fs = new ContainerFilesystems(container.filesystems().root(),
                List.of(new ContainerMount(102, hostDisk, "/etc/hosts", "/var/lib/docker/containers/x/hosts", "ext4",
                        "/dev/vda")));
        ContainerContext withHostsBind = new ContainerContext(container.id(), container.runtime(), container.cgroupPath(),
                null, fs);
        ExecEvent reportedWithLowerDev = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "tool", "/usr/bin/tool",
                new ExecEvent.FileId(hostDisk, image.file().ino()), ExecEvent.FileId.NONE, 0, 0, image.flags(),
                ExecEvent.SourceKind.FANOTIFY, 1);

        assertThat(classifier.classify(reportedWithLowerDev, withHostsBind).kind()).isEqualTo(DriftKind.IMAGE);
    }

    @Test
    void aCopiedInBinaryIsAdded() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));

        Classification result = classifier.classify(execOf("/tmp/dropper"), container);

        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/dropper");
        assertThat(result.sha256()).isEqualTo(sha256(merged.resolve("tmp/dropper")));
    }

    @Test
    void aDropAtAnImageLayersHostPathRecreatedInsideTheContainerIsAddedNotImage() throws Exception {
        String spoofed = top + "/tmp/evil";
        Path drop = merged.resolve(spoofed.substring(1));
        Files.createDirectories(drop.getParent());
        Files.write(drop, bytes("payload", 4000));
        ExecEvent exec = execOf(spoofed);

        Classification result = classifier.classify(exec, container);

        assertThat(exec.flags().upperLayer()).as("the kernel: a writable-layer file").isTrue();
        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).as("the path the process used").isEqualTo(spoofed);
        assertThat(result.sha256()).isEqualTo(sha256(drop));
    }

    @Test
    void aDropAtTheWritableLayersHostPathRecreatedInsideTheContainerIsAddedWithThatPath() throws Exception {
        String spoofed = upper + "/tmp/evil";
        Path drop = merged.resolve(spoofed.substring(1));
        Files.createDirectories(drop.getParent());
        Files.write(drop, bytes("payload", 4000));
        Files.write(merged.resolve("tmp/evil"), bytes("decoy", 4000)); // what the host path names, seen from the host

        Classification result = classifier.classify(execOf(spoofed), container);

        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo(spoofed);
        assertThat(result.sha256()).isEqualTo(sha256(drop));
    }

    @Test
    void aFileExecutedThroughItsLayersHostPathIsThatLayersWhenTheKernelsDevAndInodeAreThatFiles() throws Exception {
        Path layerFile = top.resolve("usr/bin/tool");
        ExecEvent throughHostPath = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "tool", layerFile.toString(),
                fileId(layerFile), ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, 1);
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        Path upperDrop = upper.resolve("tmp/dropper");
        ExecEvent upperThroughHostPath = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "dropper", upperDrop.toString(),
                fileId(upperDrop), ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, 1);

        Classification image = classifier.classify(throughHostPath, container);
        Classification added = classifier.classify(upperThroughHostPath, container);

        assertThat(image.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(image.path()).isEqualTo("/usr/bin/tool");
        assertThat(image.layer()).isEqualTo(top.toString());
        assertThat(added.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(added.path()).isEqualTo("/tmp/dropper");
    }

    @Test
    void anOverwrittenImageBinaryIsModifiedWithTheImagePathAndLayer() throws Exception {
        Files.write(merged.resolve("usr/bin/tool"), bytes("trojan", 5000));

        Classification result = classifier.classify(execOf("/usr/bin/tool"), container);

        assertThat(result.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(result.imagePath()).isEqualTo("/usr/bin/tool");
        assertThat(result.layer()).isEqualTo(top.toString());
        assertThat(result.sha256()).isEqualTo(sha256(merged.resolve("usr/bin/tool")));
    }

    @Test
    void aChmodOrTouchCopyUpWithTheSameBytesIsImageNotDrift() throws Exception {
        Files.setPosixFilePermissions(merged.resolve("usr/bin/tool"), PosixFilePermissions.fromString("rwx------"));
        Files.setLastModifiedTime(merged.resolve("usr/bin/other"), FileTime.fromMillis(0));

        ExecEvent chmodded = execOf("/usr/bin/tool");
        ExecEvent touched = execOf("/usr/bin/other");
        Classification afterChmod = classifier.classify(chmodded, container);
        Classification afterTouch = classifier.classify(touched, container);

        assertThat(chmodded.flags().upperLayer()).as("copied up by chmod").isTrue();
        assertThat(touched.flags().upperLayer()).as("copied up by touch").isTrue();
        assertThat(afterChmod.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(afterChmod.imagePath()).isEqualTo("/usr/bin/tool");
        assertThat(afterTouch.kind()).isEqualTo(DriftKind.IMAGE);
    }

    @Test
    void aDroppedScriptIsClassifiedNotItsInterpreter() throws Exception {
        Path script = merged.resolve("tmp/run.sh");
        Files.writeString(script, "#!/usr/bin/tool\necho hi\n");
        ExecEvent scriptExec = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "run.sh", "/tmp/run.sh", fileId(script),
                fileId(merged.resolve("usr/bin/tool")), 0, 0, flagsOf("/tmp/run.sh"), ExecEvent.SourceKind.EBPF, 1);

        Classification result = classifier.classify(scriptExec, container);

        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/run.sh");
    }

    @Test
    void aFileBehindTheImagesOwnSymlinkResolvesInTheImageView() throws Exception {
        Files.write(merged.resolve("usr/bin/tool"), bytes("trojan", 5000));

        Classification viaSymlink = classifier.classify(execOf("/bin/tool"), container);
        Classification relative = classifier.classify(withFilename(execOf("/usr/bin/tool"), "./tool"), container);

        assertThat(viaSymlink.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(viaSymlink.path()).isEqualTo("/usr/bin/tool");
        assertThat(relative.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(relative.path()).isEqualTo("/usr/bin/tool");
    }

    @Test
    void aSymlinkPlantedInTheContainerToAHostFileIsNeverFollowedOnTheHost() throws Exception {
        Files.createDirectories(merged.resolve("evil"));
        Files.createSymbolicLink(merged.resolve("evil/x"), Path.of("/etc/shadow"));
        Files.write(merged.resolve("tmp/payload"), bytes("p", 100));
        ExecEvent exec = withFilename(execOf("/tmp/payload"), "/evil/x");

        Classification result = classifier.classify(exec, container);

        // /etc/shadow resolved inside the container: the image has no /etc, so nothing of the host is read
        assertThat(result.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(rootedFiles.reads.get()).isZero();
    }

    @Test
    void aFifoOrASymlinkLoopAtTheExecPathIsUnresolvedWithoutBlocking() throws Exception {
        Files.write(merged.resolve("tmp/real"), bytes("p", 100));
        ExecEvent real = execOf("/tmp/real");
        run("mkfifo", merged.resolve("tmp/fifo").toString());
        Files.createSymbolicLink(merged.resolve("tmp/loop1"), Path.of("loop2"));
        Files.createSymbolicLink(merged.resolve("tmp/loop2"), Path.of("loop1"));

        Classification fifo = classifier.classify(withFilename(real, "/tmp/fifo"), container);
        Classification loop = classifier.classify(withFilename(real, "/tmp/loop1"), container);

        assertThat(fifo.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(fifo.reason()).contains("not a regular file");
        assertThat(fifo.cause()).isEqualTo(UnresolvedReason.NOT_REGULAR_FILE);
        assertThat(loop.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(rootedFiles.reads.get()).isZero();
    }

    @Test
    void aFilenameWithANewlineIsClassifiedByItsExactName() throws Exception {
        Path odd = merged.resolve("tmp/a\nb");
        Files.write(odd, bytes("odd", 64));

        Classification result = classifier.classify(execOf("/tmp/a\nb"), container);

        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.path()).isEqualTo("/tmp/a\nb");
    }

    @Test
    void anUpperFileIsHashedOnceForRepeatedExecs() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));

        for (int i = 0; i < 5; i++) {
            assertThat(classifier.classify(execOf("/tmp/dropper"), container).kind()).isEqualTo(DriftKind.ADDED);
        }

        assertThat(classifier.filesHashed()).isEqualTo(1);
        assertThat(rootedFiles.reads.get()).isEqualTo(1);
    }

    @Test
    void aDropRewrittenWithItsSizeAndItsMtimeSetBackIsHashedAgain() throws Exception {
        // given a drop classified (and hashed) once
        Path drop = merged.resolve("tmp/dropper");
        Files.write(drop, bytes("payload", 4000));
        Classification first = classifier.classify(execOf("/tmp/dropper"), container);
        FileTime mtime = Files.getLastModifiedTime(drop);
        Thread.sleep(20); // past the coarse clock tick of timestamps on a kernel without fine-grained ctime

        // when it is rewritten with other bytes of the same size and its mtime set back
        Files.write(drop, bytes("implant", 4000));
        Files.setLastModifiedTime(drop, mtime);
        Classification second = classifier.classify(execOf("/tmp/dropper"), container);

        // then the digest is the new content's, not the cached one
        assertThat(Files.getLastModifiedTime(drop)).isEqualTo(mtime);
        assertThat(first.sha256()).isEqualTo(sha256OfBytes(bytes("payload", 4000)));
        assertThat(second.sha256()).isEqualTo(sha256(drop)).isNotEqualTo(first.sha256());
        assertThat(classifier.filesHashed()).isEqualTo(2);
    }

    @Test
    void aChmodCopyUpRewrittenWithTheImagesSizeAndItsMtimeSetBackIsModifiedNotTheCachedImage() throws Exception {
        // given an image binary copied up by chmod, classified IMAGE (same bytes as the image's: hashed)
        Path tool = merged.resolve("usr/bin/tool");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwx------"));
        assertThat(classifier.classify(execOf("/usr/bin/tool"), container).kind()).isEqualTo(DriftKind.IMAGE);
        FileTime mtime = Files.getLastModifiedTime(tool);
        Thread.sleep(20); // past the coarse clock tick of timestamps on a kernel without fine-grained ctime

        // when it is overwritten in place with a trojan of the same size, and its mtime set back
        Files.write(tool, bytes("trojan", 5000));
        Files.setLastModifiedTime(tool, mtime);
        Classification result = classifier.classify(execOf("/usr/bin/tool"), container);

        // then
        assertThat(Files.getLastModifiedTime(tool)).isEqualTo(mtime);
        assertThat(result.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(result.sha256()).isEqualTo(sha256(tool));
    }

    @Test
    void atOnceAClassificationIsTheSameAsClassifyOnlyWhenItNeedsNoContentNoIndexBuildAndNoOtherMount() throws Exception {
        // given a drop, a same-size overwrite of an image file, a file on a volume, an image binary
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        Files.write(merged.resolve("usr/bin/tool"), bytes("trojan", 5000));
        Files.write(volume.resolve("tool"), bytes("volume tool", 2000));

        // when asked at once before the container's image index is loaded: only the kernel's flags decide
        assertThat(classifier.classifyAtOnce(execOf("/usr/bin/other"), container).map(Classification::kind))
                .contains(DriftKind.IMAGE);
        assertThat(classifier.classifyAtOnce(execOf("/tmp/dropper"), container)).as("the index is not built yet").isEmpty();
        assertThat(images.builds.get() + rootedFiles.reads.get()).as("nothing built, nothing read").isZero();

        // and once the index is loaded, the drop's digest not cached: still not at once (it would be read)
        Files.write(merged.resolve("tmp/loader"), bytes("another drop", 100));
        classifier.classify(execOf("/tmp/loader"), container); // loads the index, caches only the loader's digest
        int reads = rootedFiles.reads.get();
        assertThat(classifier.classifyAtOnce(execOf("/tmp/dropper"), container)).as("digest not cached").isEmpty();
        assertThat(rootedFiles.reads.get()).isEqualTo(reads);

        // then, after one full classification cached its digest, at once is the same classification, reading nothing
        Classification full = classifier.classify(execOf("/tmp/dropper"), container);
        reads = rootedFiles.reads.get();
        assertThat(classifier.classifyAtOnce(execOf("/tmp/dropper"), container)).contains(full);
        assertThat(full.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(rootedFiles.reads.get()).isEqualTo(reads);
        // and a same-size overwrite (the image's digest may be needed) and a volume's file are never at once
        classifier.classify(execOf("/usr/bin/tool"), container);
        assertThat(classifier.classifyAtOnce(execOf("/usr/bin/tool"), container)).isEmpty();
        assertThat(classifier.classifyAtOnce(execOf("/data/tool"), container)).isEmpty();
    }

    @Test
    void aMemfdOrDeletedFileIsFileless() throws Exception {
        ExecEvent memfd = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "x", "/memfd:x (deleted)", new ExecEvent.FileId(1, 99),
                ExecEvent.FileId.NONE, 0, 0, new ExecEvent.Flags(false, false, true, true), ExecEvent.SourceKind.EBPF, 1);

        assertThat(classifier.classify(memfd, container).kind()).isEqualTo(DriftKind.FILELESS);
    }

    @Test
    void aBinaryOnAVolumeIsMountUnlessTheImageHasTheSameBytesThere() throws Exception {
        Files.write(volume.resolve("tool"), bytes("volume tool", 2000));

        Classification result = classifier.classify(execOf("/data/tool"), container);

        assertThat(result.kind()).isEqualTo(DriftKind.MOUNT);
        assertThat(result.sha256()).isEqualTo(sha256(volume.resolve("tool")));
        assertThat(result.reason()).contains("tmpfs", "/data");
    }

    @Test
    void aGoneContainersDropIsAddedUnhashedAndItsChangedImageFileModifiedUnverifiedFromTheImageAlone() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        Files.write(merged.resolve("usr/bin/tool"), bytes("trojan", 5000));
        ExecEvent drop = execOf("/tmp/dropper");
        ExecEvent changed = execOf("/usr/bin/tool");
        Path gone = tmp.resolve("gone-upper");
        OverlayRoot root = container.filesystems().root().orElseThrow();
        ContainerContext goneContainer = new ContainerContext(container.id(), container.runtime(), container.cgroupPath(),
                null, new ContainerFilesystems(Optional.of(new OverlayRoot(root.mount(), root.lowerDirs(), gone,
                root.workDir())), container.filesystems().mounts()));

        Classification dropped = classifier.classify(drop, goneContainer);
        Classification copiedUp = classifier.classify(changed, goneContainer);

        assertThat(dropped.kind()).as("the kernel: writable layer; the image: no such path").isEqualTo(DriftKind.ADDED);
        assertThat(dropped.path()).isEqualTo("/tmp/dropper");
        assertThat(dropped.sha256()).isNull();
        assertThat(dropped.reason()).contains("container gone");
        assertThat(copiedUp.kind()).as("the kernel: writable layer; a lower layer has the path").isEqualTo(DriftKind.MODIFIED);
        assertThat(copiedUp.imagePath()).isEqualTo("/usr/bin/tool");
        assertThat(copiedUp.sha256()).isNull();
        assertThat(copiedUp.reason()).contains("unverified", "not hashed", "container gone");
    }

    @Test
    void aSameSizeCopyUpLargerThanTheHashBudgetIsModifiedUnverified() throws Exception {
        OverlayDriftClassifier tiny = new OverlayDriftClassifier(rootedFiles, images, tmp.resolve("proc"), 100, 10);
        Files.setPosixFilePermissions(merged.resolve("usr/bin/tool"), PosixFilePermissions.fromString("rwx------"));

        Classification result = tiny.classify(execOf("/usr/bin/tool"), container);

        assertThat(result.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(result.imagePath()).isEqualTo("/usr/bin/tool");
        assertThat(result.reason()).contains("unverified", "hash budget of 100 bytes");
        assertThat(rootedFiles.reads.get() + images.hashes.get()).isZero();
    }

    @Test
    void aSparse255MiBDropIsAddedWithoutReadingItInUnder20Milliseconds() throws Exception {
        Path drop = merged.resolve("tmp/huge");
        try (var file = new java.io.RandomAccessFile(drop.toFile(), "rw")) {
            file.setLength(255L << 20);
            file.write(bytes("\u007fELF", 64));
        }
        ExecEvent exec = execOf("/tmp/huge");
        OverlayDriftClassifier pipelineDefaults = new OverlayDriftClassifier(rootedFiles, images, tmp.resolve("proc"));
        Files.write(merged.resolve("tmp/small"), bytes("small", 100));
        pipelineDefaults.classify(execOf("/tmp/small"), container); // the image index is built on a first drop

        int readsBefore = rootedFiles.reads.get();
        long start = System.nanoTime();
        Classification result = pipelineDefaults.classify(exec, container);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(result.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(result.sha256()).isNull();
        assertThat(result.reason()).contains("not hashed", "hash budget");
        assertThat(rootedFiles.reads.get() - readsBefore).isZero();
        assertThat(tookMs).as("classification time").isLessThan(20);
    }

    @Test
    void aCopyUpOfAnotherSizeIsModifiedWithoutReadingAnyContentOnANoHashBudget() throws Exception {
        Files.write(merged.resolve("usr/bin/tool"), bytes("trojan", 7000));
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));

        Classification modified = classifier.classify(execOf("/usr/bin/tool"), container, HashBudget.NONE);
        Classification added = classifier.classify(execOf("/tmp/dropper"), container, HashBudget.NONE);

        assertThat(modified.kind()).isEqualTo(DriftKind.MODIFIED);
        assertThat(modified.imagePath()).isEqualTo("/usr/bin/tool");
        assertThat(added.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(rootedFiles.reads.get() + images.hashes.get()).as("files read").isZero();
    }

    @Test
    void anImageLayerExecIsImageWhenTheContainersMountsAreUnknownAndAWritableLayerExecIsStillReported() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        ContainerContext mountsUnknown = new ContainerContext(container.id(), container.runtime(),
                container.cgroupPath(), null, null);

        Classification image = classifier.classify(execOf("/usr/bin/tool"), mountsUnknown);
        Classification drop = classifier.classify(execOf("/tmp/dropper"), mountsUnknown);

        assertThat(image.kind()).isEqualTo(DriftKind.IMAGE);
        assertThat(drop.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(drop.reason()).contains("filesystems unknown");
        assertThat(drop.cause()).isEqualTo(UnresolvedReason.CONTAINER_UNKNOWN);
    }

    @Test
    void aRelativeExecWhoseProcessIsGoneIsUnresolvedRelativePath() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        ExecEvent drop = execOf("/tmp/dropper");
        ExecEvent goneRelative = new ExecEvent(TGID + 1, TGID + 1, 1, 0, 0, 1, "dropper", "./dropper", drop.file(),
                ExecEvent.FileId.NONE, 0, 0, drop.flags(), ExecEvent.SourceKind.EBPF, 1);

        Classification result = classifier.classify(goneRelative, container);

        assertThat(result.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(result.cause()).isEqualTo(UnresolvedReason.RELATIVE_PATH);
    }

    @Test
    void aFileOnADeviceNoneOfTheContainersMountsIsUnresolvedUnknownMountAndWithoutAnOverlayRootRootNotOverlay()
            throws Exception {
        Path hostFile = Files.write(tmp.resolve("host-tool"), bytes("host", 100));
        ExecEvent onHostDisk = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "tool", "/opt/tool", fileId(hostFile),
                ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, 1);
        ContainerContext noOverlay = new ContainerContext(container.id(), container.runtime(), container.cgroupPath(),
                null, new ContainerFilesystems(Optional.empty(), List.of()));

        Classification unknownMount = classifier.classify(onHostDisk, container);
        Classification notOverlay = classifier.classify(onHostDisk, noOverlay);

        assertThat(unknownMount.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(unknownMount.cause()).isEqualTo(UnresolvedReason.UNKNOWN_MOUNT);
        assertThat(notOverlay.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(notOverlay.cause()).isEqualTo(UnresolvedReason.ROOT_NOT_OVERLAY);
    }

    @Test
    void aDropRemovedFromTheWritableLayerBeforeItWasClassifiedIsUnresolvedFileGone() throws Exception {
        Files.write(merged.resolve("tmp/selfdelete"), bytes("payload", 4000));
        ExecEvent exec = execOf("/tmp/selfdelete");
        Files.delete(merged.resolve("tmp/selfdelete"));

        Classification result = classifier.classify(exec, container);

        assertThat(result.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(result.cause()).isEqualTo(UnresolvedReason.FILE_GONE);
    }

    @Test
    void aDropWhoseImageLayersCannotBeReadIsUnresolvedImageUnreadable() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        OverlayRoot root = container.filesystems().root().orElseThrow();
        ContainerContext lowerGone = new ContainerContext(new ContainerId("unit-2"), container.runtime(),
                container.cgroupPath(), null, new ContainerFilesystems(Optional.of(new OverlayRoot(root.mount(),
                List.of(tmp.resolve("no-such-layer")), root.upperDir(), root.workDir())), container.filesystems().mounts()));

        Classification result = classifier.classify(execOf("/tmp/dropper"), lowerGone);

        assertThat(result.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(result.cause()).isEqualTo(UnresolvedReason.IMAGE_UNREADABLE);
    }

    @Test
    void aDropWhoseWritableLayerCannotBeReadIsUnresolvedWritableLayerUnreadable() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        ExecEvent exec = execOf("/tmp/dropper");
        OverlayDriftClassifier failingReads = new OverlayDriftClassifier(new io.driftagent.agent.fs.RootedFiles() {
            @Override
            public Optional<io.driftagent.agent.fs.FileFacts> stat(Path root, String path) throws IOException {
                return rootedFiles.stat(root, path);
            }

            @Override
            public Optional<String> sha256(Path root, String path, long maxBytes) throws IOException {
                throw new IOException("Input/output error");
            }

            @Override
            public Optional<String> readLink(Path root, String path, int maxBytes) throws IOException {
                return rootedFiles.readLink(root, path, maxBytes);
            }
        }, images, tmp.resolve("proc"), 1 << 20, 100);

        Classification result = failingReads.classify(exec, container);

        assertThat(result.kind()).isEqualTo(DriftKind.UNRESOLVED);
        assertThat(result.cause()).isEqualTo(UnresolvedReason.WRITABLE_LAYER_UNREADABLE);
    }

    @Test
    void aBlockingDecisionTakenBeforeClassificationIsUnresolvedNotClassified() {
        Classification result = Classification.unresolved("/tmp/x", "not classified: denied at the guard's deadline");

        assertThat(result.cause()).isEqualTo(UnresolvedReason.NOT_CLASSIFIED);
        assertThat(new Classification(DriftKind.ADDED, "/tmp/x", null, null, null, null).cause()).isNull();
    }

    @Test
    void aDropWhoseNameIsNotUtf8IsFoundByItsExactBytesAlsoThroughASymlinkOfTheWritableLayer() throws Exception {
        run("sh", "-c", "cd " + merged.resolve("tmp") + " && printf payload > \"$(printf 'latin\\351X')\""
                + " && ln -s \"$(printf 'latin\\351X')\" \"$(printf 'link\\377')\"");
        byte[] name = {'/', 't', 'm', 'p', '/', 'l', 'a', 't', 'i', 'n', (byte) 0xE9, 'X'};
        String path = io.driftagent.agent.fs.PathBytes.decode(name);
        String link = io.driftagent.agent.fs.PathBytes.decode(new byte[] {'/', 't', 'm', 'p', '/', 'l', 'i', 'n', 'k',
            (byte) 0xFF});
        String[] devIno = statOfBytes(name);
        ExecEvent exec = new ExecEvent(TGID, TGID, 1, 0, 0, 1, "latin", path,
                new ExecEvent.FileId(Long.parseLong(devIno[0]), Long.parseLong(devIno[1])), ExecEvent.FileId.NONE, 0, 0,
                new ExecEvent.Flags(true, true, false, false), ExecEvent.SourceKind.EBPF, 1);
        OverlayDriftClassifier byBytes = new OverlayDriftClassifier(
                io.driftagent.agent.fs.NoFollowRootedFiles.create(), images, tmp.resolve("proc"), 1 << 20, 100);

        Classification direct = byBytes.classify(exec, container);
        Classification viaLink = byBytes.classify(withFilename(exec, link), container);

        assertThat(direct.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(io.driftagent.agent.fs.PathBytes.encode(direct.path())).isEqualTo(name);
        assertThat(direct.sha256()).isNotNull();
        assertThat(viaLink.kind()).isEqualTo(DriftKind.ADDED);
        assertThat(viaLink.path()).isEqualTo(path);
    }

    @Test
    void releasingAGoneContainerReleasesItsImageIndexOnce() throws Exception {
        Files.write(merged.resolve("tmp/dropper"), bytes("payload", 4000));
        classifier.classify(execOf("/tmp/dropper"), container);

        classifier.containerGone(container);
        classifier.containerGone(container);

        assertThat(images.builds.get()).isEqualTo(1);
        assertThat(images.releases.get()).isEqualTo(1);
    }

    /** Device numbers used as stand-ins. */
    private static final class MountInfoDevs {
        static final long HOST_DISK = io.driftagent.agent.host.DeviceNumber.makedev(254, 0);
    }

    // --- facts as the kernel would report them ---

    private ExecEvent execOf(String containerPath) throws IOException {
        Path file = merged.resolve(containerPath.substring(1));
        return new ExecEvent(TGID, TGID, 1, 0, 0, 1, file.getFileName().toString(), containerPath,
                fileId(file.toRealPath()), ExecEvent.FileId.NONE, 0, 0, flagsOf(containerPath),
                ExecEvent.SourceKind.EBPF, 1);
    }

    private ExecEvent.Flags flagsOf(String containerPath) throws IOException {
        Path real = merged.resolve(containerPath.substring(1)).toRealPath();
        String inContainer = "/" + merged.relativize(real);
        boolean onOverlay = dev(real) == dev(merged);
        boolean upperLayer = onOverlay && Files.exists(upper.resolve(inContainer.substring(1)), LinkOption.NOFOLLOW_LINKS);
        long nlink = ((Integer) Files.getAttribute(real, "unix:nlink")).longValue();
        return new ExecEvent.Flags(onOverlay, upperLayer, false, nlink == 0);
    }

    private static ExecEvent withFilename(ExecEvent e, String filename) {
        return new ExecEvent(e.pid(), e.tgid(), e.ppid(), e.uid(), e.gid(), e.startTimeNs(), e.comm(), filename, e.file(),
                e.interpreter(), e.cgroupId(), e.mountNsId(), e.flags(), e.source(), e.timestampNs());
    }

    private static ExecEvent.FileId fileId(Path file) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:dev,ino");
        return new ExecEvent.FileId((Long) a.get("dev"), (Long) a.get("ino"));
    }

    private static long dev(Path path) throws IOException {
        return (Long) Files.getAttribute(path, "unix:dev");
    }

    static byte[] bytes(String seed, int size) {
        byte[] out = new byte[size];
        byte[] s = seed.getBytes();
        for (int i = 0; i < size; i++) {
            out[i] = s[i % s.length];
        }
        return out;
    }

    static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    static String sha256OfBytes(byte[] content) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content));
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** dev and inode of the file whose name is {@code name} (bytes) in the merged view, read by the shell. */
    private String[] statOfBytes(byte[] name) throws Exception {
        StringBuilder printf = new StringBuilder();
        for (byte b : name) {
            printf.append(String.format("\\%03o", b & 0xff));
        }
        return runOutput("sh", "-c", "stat -c '%d %i' \"" + merged + "$(printf '" + printf + "')\"").trim().split(" ");
    }

    private static String runOutput(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return p.exitValue() == 0 ? out : "";
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }
}
