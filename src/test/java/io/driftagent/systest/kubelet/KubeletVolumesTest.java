package io.driftagent.systest.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kubelet's volume set-up on the node: the atomic writer's layout and swap, hostPath type checks. */
class KubeletVolumesTest {

    private final KubeletVolumes kubelet = new KubeletVolumes(Clock.systemUTC());

    @Test
    void aConfigMapVolumeHasATimestampedDirectoryADataSymlinkAndOneSymlinkPerKeyThroughIt(@TempDir Path dir)
            throws Exception {
        kubelet.apply(new VolumeAction.AtomicFiles("policy", dir, Map.of("policy.yaml", bytes("v1")), 0644));

        Path data = Files.readSymbolicLink(dir.resolve("..data"));
        assertThat(data.toString()).matches("\\.\\.\\d{4}_\\d{2}_\\d{2}_\\d{2}_\\d{2}_\\d{2}\\.\\d+");
        assertThat(Files.readSymbolicLink(dir.resolve("policy.yaml"))).isEqualTo(Path.of("..data/policy.yaml"));
        assertThat(Files.readString(dir.resolve("policy.yaml"))).isEqualTo("v1");
    }

    @Test
    void anUpdateSwapsDataToANewDirectoryAndRemovesTheOldOneKeepingTheFileSymlink(@TempDir Path dir)
            throws Exception {
        kubelet.apply(new VolumeAction.AtomicFiles("policy", dir, Map.of("policy.yaml", bytes("v1")), 0644));
        Path first = Files.readSymbolicLink(dir.resolve("..data"));

        kubelet.update(dir, Map.of("policy.yaml", bytes("v2")), 0644);

        Path second = Files.readSymbolicLink(dir.resolve("..data"));
        assertThat(second).isNotEqualTo(first);
        assertThat(dir.resolve(first)).doesNotExist();
        assertThat(Files.readString(dir.resolve("policy.yaml"))).isEqualTo("v2");
        try (Stream<Path> entries = Files.list(dir)) {
            assertThat(entries.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("..data", second.toString(), "policy.yaml");
        }
    }

    @Test
    void aDirectoryHostPathThatDoesNotExistKeepsThePodFromStartingAndDirectoryOrCreateCreatesIt(@TempDir Path dir)
            throws Exception {
        Path missing = dir.resolve("missing");

        assertThatThrownBy(() -> kubelet.apply(new VolumeAction.HostPath("btf", missing, "Directory")))
                .isInstanceOf(UnsupportedPodSpec.class).hasMessageContaining("kubelet would not start the pod");
        kubelet.apply(new VolumeAction.HostPath("state", missing, "DirectoryOrCreate"));
        assertThat(missing).isDirectory();
        kubelet.apply(new VolumeAction.HostPath("any", dir.resolve("also-missing"), ""));
        assertThat(dir.resolve("also-missing")).doesNotExist();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
