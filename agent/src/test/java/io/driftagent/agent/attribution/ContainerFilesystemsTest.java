package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContainerFilesystemsTest {
    // a containerd container: root overlay 0:39, a tmpfs /dev 0:43, and a bind mount of the root's own filesystem
    private static final String MOUNTINFO = """
            71 47 0:39 / / rw,relatime - overlay overlay rw,lowerdir=/snapshots/1/fs,upperdir=/snapshots/2/fs,workdir=/snapshots/2/work
            73 71 0:43 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
            80 71 0:39 /data /mnt/data rw,relatime - overlay overlay rw,lowerdir=/snapshots/1/fs,upperdir=/snapshots/2/fs,workdir=/snapshots/2/work
            """;

    private final ContainerFilesystems fs = new ContainerFilesystemsReader(Path.of("/proc"), Path.of("/"))
            .fromMountInfo(MOUNTINFO);

    @Test
    void theRootDeviceIsTheRootOverlaysDevice() {
        assertThat(fs.rootDevice()).hasValue(39L);
        assertThat(fs.isRootDevice(39L)).isTrue();
        assertThat(fs.isRootDevice(43L)).isFalse();
    }

    @Test
    void aContainerWhoseRootIsNoOverlayHasNoRootDeviceAndItsMountsAreFoundByDevice() {
        // given a root that is not an overlay
        ContainerMount tmpfs = new ContainerMount(73, 43L, "/dev", "/", "tmpfs", "tmpfs");
        ContainerFilesystems noOverlay = new ContainerFilesystems(Optional.empty(), List.of(tmpfs));

        // then no device is the root's, and the tmpfs is found by its device
        assertThat(noOverlay.rootDevice()).isEmpty();
        assertThat(noOverlay.isRootDevice(43L)).isFalse();
        assertThat(noOverlay.nonRootMountWithDev(43L)).contains(tmpfs);
    }

    @Test
    void aFileOnTheRootDeviceIsOnNoOtherMountEvenWhereTheRootsFilesystemIsMountedAgain() {
        assertThat(fs.nonRootMountWithDev(39L)).isEmpty();
        assertThat(fs.nonRootMountWithDev(43L)).map(ContainerMount::mountPoint).contains("/dev");
    }
}
