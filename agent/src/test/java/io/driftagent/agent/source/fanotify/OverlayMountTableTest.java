package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.host.DeviceNumber;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class OverlayMountTableTest {

    @Test
    void overlayMountsAreReadWithTheirLayersTopFirstAndOtherMountsIgnored() {
        String mountinfo = """
                27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
                79 27 0:61 / /run/c/rootfs rw,relatime - overlay overlay rw,lowerdir=/l/top:/l/base,upperdir=/s/up,workdir=/s/work,uuid=on
                80 27 0:63 / /tmp/t rw,relatime - tmpfs tmpfs rw
                """;

        List<OverlayMount> overlays = OverlayMountTable.overlays(mountinfo);

        assertThat(overlays).containsExactly(new OverlayMount(DeviceNumber.makedev(0, 61), "/run/c/rootfs",
                List.of(Path.of("/l/top"), Path.of("/l/base")), Path.of("/s/up")));
    }

    @Test
    void escapedCharactersAndPerLayerOptionsAreUnderstood() {
        String mountinfo = "90 27 0:70 / /my\\040root rw - overlay overlay rw,lowerdir+=/a\\040b,lowerdir+=/c,"
                + "upperdir=/u\\134x,workdir=/w\n"
                + "91 27 0:71 / /r2 ro - overlay overlay ro,lowerdir=/x\\:y:/z\n";

        List<OverlayMount> overlays = OverlayMountTable.overlays(mountinfo);

        assertThat(overlays.get(0).mountPoint()).isEqualTo("/my root");
        assertThat(overlays.get(0).lowerDirs()).containsExactly(Path.of("/a b"), Path.of("/c"));
        assertThat(overlays.get(0).upperDir()).isEqualTo(Path.of("/u\\x"));
        assertThat(overlays.get(1).lowerDirs()).containsExactly(Path.of("/x:y"), Path.of("/z"));
        assertThat(overlays.get(1).upperDir()).as("a read-only overlay has no upper layer").isNull();
    }

}
