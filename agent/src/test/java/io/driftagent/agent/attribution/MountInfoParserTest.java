package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.host.MountInfoEntry;
import io.driftagent.agent.host.MountInfoParser;
import io.driftagent.agent.host.OverlayOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountInfoParserTest {

    private static final String CONTAINERD_MOUNTINFO = """
            71 47 0:39 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/work
            72 71 0:42 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
            73 71 0:43 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
            75 73 0:45 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
            111 71 254:0 /var/lib/docker/containers/da9c/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw,discard
            """;

    private final MountInfoParser parser = new MountInfoParser();


    @Test
    void parsesOptionalFieldsAndUnescapesOctalEscapes() {
        MountInfoEntry entry = parser.parseLine(
                "94 60 0:50 /my\\040dir /data\\011x\\134y rw,relatime shared:2 master:7 - ext4 /dev/vd\\040a rw,a\\054b=1");

        assertThat(entry.mountId()).isEqualTo(94);
        assertThat(entry.parentId()).isEqualTo(60);
        assertThat(entry.dev()).isEqualTo(50L);
        assertThat(entry.root()).isEqualTo("/my dir");
        assertThat(entry.mountPoint()).isEqualTo("/data\tx\\y");
        assertThat(entry.optionalTags()).containsExactly("shared:2", "master:7");
        assertThat(entry.fsType()).isEqualTo("ext4");
        assertThat(entry.source()).isEqualTo("/dev/vd a");
        assertThat(entry.superOptions()).containsExactly("rw", "a,b=1");
    }

    @Test
    void decodesEscapedUtf8BytesAndSkipsMalformedLines() {
        List<MountInfoEntry> entries = parser.parse("garbage line\n1 0 0:1 / /caf\\303\\251 rw - tmpfs t rw\n");

        assertThat(entries).singleElement().extracting(MountInfoEntry::mountPoint).isEqualTo("/café");
    }

    @Test
    void findsTheContainerdRootOverlayAndTheOtherMounts() {
        ContainerFilesystems fs = new ContainerFilesystemsReader(Path.of("/proc"), Path.of("/"))
                .fromMountInfo(CONTAINERD_MOUNTINFO);

        OverlayRoot root = fs.root().orElseThrow();
        assertThat(root.mount().dev()).isEqualTo(39L);
        assertThat(root.lowerDirs()).containsExactly(
                Path.of("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/1/fs"));
        assertThat(root.upperDir()).isEqualTo(Path.of("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/fs"));
        assertThat(root.workDir()).isEqualTo(Path.of("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/2/work"));
        assertThat(fs.mounts()).extracting(ContainerMount::mountPoint)
                .containsExactly("/proc", "/dev", "/dev/shm", "/etc/resolv.conf");
        assertThat(fs.nonRootMountWithDev(DeviceNumber.makedev(0, 45))).map(ContainerMount::fsType).contains("tmpfs");
        assertThat(fs.nonRootMountWithDev(39L)).isEmpty();
    }

    @Test
    void splitsLegacyLowerdirOnUnescapedColonsOnly() {
        // as the kernel shows lowerdir='/l a\:b\,c=d:/l2' (captured on this kernel)
        MountInfoEntry entry = parser.parseLine("58 27 0:50 / /mnt rw,relatime - overlay overlay rw,"
                + "lowerdir=/tmp/l\\040a\\134:b\\134\\054c=d:/tmp/l2,upperdir=/tmp/up,workdir=/tmp/wk,uuid=on");

        OverlayOptions options = OverlayOptions.fromSuperOptions(entry.superOptions());

        assertThat(options.lowerDirs()).containsExactly("/tmp/l a:b,c=d", "/tmp/l2");
        assertThat(options.upperDir()).isEqualTo("/tmp/up");
        assertThat(options.workDir()).isEqualTo("/tmp/wk");
    }

    @Test
    void readsTheNewMountApisRepeatedLowerdirAndDatadirOptions() {
        // captured on this kernel after fsconfig(lowerdir+, lowerdir+, datadir+)
        MountInfoEntry entry = parser.parseLine("59 27 0:50 / /mnt2 rw,relatime - overlay none rw,"
                + "lowerdir+=/tmp/l\\040a:b\\054c=d,lowerdir+=/tmp/l3,datadir+=/tmp/l2,upperdir=/tmp/up2,"
                + "workdir=/tmp/wk2,uuid=on");

        OverlayOptions options = OverlayOptions.fromSuperOptions(entry.superOptions());

        assertThat(options.lowerDirs()).containsExactly("/tmp/l a:b,c=d", "/tmp/l3");
        assertThat(options.dataDirs()).containsExactly("/tmp/l2");
        assertThat(options.upperDir()).isEqualTo("/tmp/up2");
    }

    @Test
    void resolvesContainerdsCompactedRelativeLowerdirsAgainstTheSnapshotsDirectory(@TempDir Path host) throws IOException {
        Path snapshots = host.resolve("var/lib/containerd/snapshots");
        for (String n : List.of("5", "12", "13")) {
            Files.createDirectories(snapshots.resolve(n).resolve("fs"));
        }
        String line = "71 47 0:39 / / rw - overlay overlay rw,lowerdir=12/fs:5/fs,"
                + "upperdir=/var/lib/containerd/snapshots/13/fs,workdir=/var/lib/containerd/snapshots/13/work";

        OverlayRoot root = new ContainerFilesystemsReader(Path.of("/proc"), host).fromMountInfo(line).root().orElseThrow();

        assertThat(root.lowerDirs()).containsExactly(snapshots.resolve("12/fs"), snapshots.resolve("5/fs"));
        assertThat(root.upperDir()).isEqualTo(snapshots.resolve("13/fs"));
    }

    @Test
    void followsDockersShortLayerLinksOnTheHostOnly(@TempDir Path host) throws IOException {
        Path overlay2 = host.resolve("var/lib/docker/overlay2");
        Files.createDirectories(overlay2.resolve("l"));
        Files.createDirectories(overlay2.resolve("aaa111/diff"));
        Files.createDirectories(overlay2.resolve("bbb222-init/diff"));
        Files.createSymbolicLink(overlay2.resolve("l/LBBP"), Path.of("../aaa111/diff"));
        Files.createSymbolicLink(overlay2.resolve("l/FWDD"), Path.of("../bbb222-init/diff"));
        Files.createSymbolicLink(overlay2.resolve("l/EVIL"), Path.of("/etc")); // not a runtime-shaped link: kept
        String absolute = "94 60 0:50 / / rw,relatime master:2 - overlay overlay rw,"
                + "lowerdir=/var/lib/docker/overlay2/l/FWDD:/var/lib/docker/overlay2/l/LBBP:/var/lib/docker/overlay2/l/EVIL,"
                + "upperdir=/var/lib/docker/overlay2/ccc/diff,workdir=/var/lib/docker/overlay2/ccc/work";
        String compacted = "94 60 0:50 / / rw,relatime master:2 - overlay overlay rw,lowerdir=l/FWDD:l/LBBP,"
                + "upperdir=/var/lib/docker/overlay2/ccc/diff,workdir=/var/lib/docker/overlay2/ccc/work";
        ContainerFilesystemsReader reader = new ContainerFilesystemsReader(Path.of("/proc"), host);

        assertThat(reader.fromMountInfo(absolute).root().orElseThrow().lowerDirs()).containsExactly(
                overlay2.resolve("bbb222-init/diff"), overlay2.resolve("aaa111/diff"), overlay2.resolve("l/EVIL"));
        assertThat(reader.fromMountInfo(compacted).root().orElseThrow().lowerDirs()).containsExactly(
                overlay2.resolve("bbb222-init/diff"), overlay2.resolve("aaa111/diff"));
    }

    @Test
    void reportsNoOverlayRootForANonOverlayRootfs() {
        ContainerFilesystems fs = new ContainerFilesystemsReader(Path.of("/proc"), Path.of("/"))
                .fromMountInfo("20 1 254:3 /rootfs / rw - ext4 /dev/vdb rw\n21 20 0:5 / /tmp rw - tmpfs tmpfs rw\n");

        assertThat(fs.root()).isEmpty();
        assertThat(fs.mounts()).extracting(ContainerMount::mountPoint).containsExactly("/tmp");
    }
}
