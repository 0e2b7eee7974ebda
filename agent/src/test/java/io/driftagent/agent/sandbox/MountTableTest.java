package io.driftagent.agent.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.host.DeviceNumber;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MountTableTest {

    private static final String MOUNTINFO = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            640 22 0:300 / /tmp/drift-sandbox-a-1/merged rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
            641 22 0:301 / /tmp/drift-sandbox-a-1/merged rw,relatime - tmpfs tmpfs rw
            642 22 259:1048577 / /tmp/drift\\040sandbox/merged rw - overlay overlay rw,lowerdir=/l2
            """;

    @Test
    void theSandboxsOverlayIsFoundByItsMountPointAsTheSandboxRoot() {
        // given a mount table with the sandbox's overlay (and a later mount over it); when looked up
        Optional<ContainerMount> found = MountTable.find(MOUNTINFO, Path.of("/tmp/drift-sandbox-a-1/merged"));

        // then the first mount there is the one, seen as the sandbox's root
        assertThat(found).contains(new ContainerMount(640, DeviceNumber.makedev(0, 300), "/", "/", "overlay",
                "overlay"));
    }

    @Test
    void anEscapedMountPointIsMatchedUnescapedAndALargeMinorNumberIsKept() {
        Optional<ContainerMount> found = MountTable.find(MOUNTINFO, Path.of("/tmp/drift sandbox/merged"));

        assertThat(found).map(ContainerMount::dev).contains(DeviceNumber.makedev(259, 1048577));
    }

    @Test
    void nothingMountedThereIsEmpty() {
        assertThat(MountTable.find(MOUNTINFO, Path.of("/tmp/elsewhere"))).isEmpty();
    }
}
