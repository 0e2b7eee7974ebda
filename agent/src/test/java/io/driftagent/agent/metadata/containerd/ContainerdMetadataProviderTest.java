package io.driftagent.agent.metadata.containerd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.HostCommand;
import io.driftagent.agent.metadata.OciImageTar;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real containerd of this machine: containers started with {@code ctr run}, bundles read for real. */
@Tag(TestTiers.CONTAINERS)
class ContainerdMetadataProviderTest {
    private static final String NAMESPACE = "drift-k8s";

    @TempDir
    Path temp;
    private final List<String> started = new ArrayList<>();
    private final List<String> importedImages = new ArrayList<>();

    @BeforeEach
    void requireContainerd() {
        assumeTrue(Files.isReadable(Path.of("/bin/busybox")), "busybox-static is not installed (scripts/host-setup.sh)");
        assumeTrue(HostCommand.works("ctr", "version"), "containerd is not running (scripts/host-setup.sh starts it)");
    }

    @AfterEach
    void removeContainers() throws Exception {
        for (String id : started) {
            HostCommand.run(List.of("ctr", "-n", NAMESPACE, "task", "kill", "-s", "SIGKILL", id));
            for (int i = 0; i < 50 && HostCommand.run(List.of("ctr", "-n", NAMESPACE, "task", "rm", id)).exitCode() != 0
                    && HostCommand.run(List.of("ctr", "-n", NAMESPACE, "task", "ls", "-q")).stdout().contains(id); i++) {
                Thread.sleep(100);
            }
            HostCommand.run(List.of("ctr", "-n", NAMESPACE, "containers", "rm", id));
        }
        for (String image : importedImages) {
            HostCommand.run(List.of("ctr", "-n", NAMESPACE, "images", "rm", image));
        }
    }

    private String runContainer(Map<String, String> annotations) throws IOException, InterruptedException {
        String id = "drift-k8s-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        Path rootfs = HostCommand.busyboxRootfs(Files.createDirectories(temp.resolve(id)));
        List<String> command = new ArrayList<>(List.of("ctr", "-n", NAMESPACE, "run", "-d", "--rootfs"));
        annotations.forEach((key, value) -> command.addAll(List.of("--annotation", key + "=" + value)));
        command.addAll(List.of(rootfs.toString(), id, "/bin/busybox", "sleep", "300"));
        HostCommand.run(command).orThrow();
        started.add(id);
        return id;
    }

    @Test
    void aCriContainersPodAndContainerComeFromItsBundleAnnotations() throws Exception {
        String id = runContainer(Map.of(
                "io.kubernetes.cri.container-type", "container",
                "io.kubernetes.cri.container-name", "nginx",
                "io.kubernetes.cri.sandbox-name", "web-7d9f8b-x2x4q",
                "io.kubernetes.cri.sandbox-namespace", "shop",
                "io.kubernetes.cri.sandbox-uid", "0b8e5c1e-7f0a-4c39-9d8e-1f2a3b4c5d6e",
                "io.kubernetes.cri.image-name", "docker.io/library/nginx:1.25"));

        WorkloadMetadata metadata = new ContainerdMetadataProvider(Clock.systemUTC()).lookup(new ContainerId(id))
                .orElseThrow();

        assertThat(metadata).isEqualTo(new WorkloadMetadata("web-7d9f8b-x2x4q", "shop",
                "0b8e5c1e-7f0a-4c39-9d8e-1f2a3b4c5d6e", Map.of(), "nginx", "docker.io/library/nginx:1.25", null));
    }

    @Test
    void aPlainCtrContainerIsNamedByItsIdAndLabelledByItsAnnotations() throws Exception {
        String id = runContainer(Map.of("team", "payments", "io.kubernetes.cri.image-name", "ignored-without-cri"));

        WorkloadMetadata metadata = new ContainerdMetadataProvider(Clock.systemUTC()).lookup(new ContainerId(id))
                .orElseThrow();

        assertThat(metadata.containerName()).isEqualTo(id);
        assertThat(metadata.podLabels()).isEqualTo(Map.of("team", "payments"));
        assertThat(metadata.podName()).isNull();
        assertThat(metadata.image()).isNull();
    }

    @Test
    void aPlainCtrContainersImageDigestAndLabelsComeFromContainerdsRecordsInTheBackground() throws Exception {
        String image = "docker.io/drift-k8s/busybox:" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path archive = temp.resolve("image.tar");
        String manifestDigest = OciImageTar.write(archive, image);
        HostCommand.run(List.of("ctr", "-n", NAMESPACE, "images", "import", archive.toString())).orThrow();
        importedImages.add(image);
        String id = "drift-k8s-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        HostCommand.run(List.of("ctr", "-n", NAMESPACE, "run", "-d", "--label", "team=payments", image, id,
                "/bin/busybox", "sleep", "300")).orThrow();
        started.add(id);

        try (ContainerdMetadataProvider provider = new ContainerdMetadataProvider(
                ContainerdMetadataProvider.DEFAULT_TASK_ROOT, ContainerdMetadataProvider.DEFAULT_MAX_CONFIG_BYTES,
                Clock.systemUTC(), new CtrContainerdRecords())) {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (provider.lookup(new ContainerId(id)).map(WorkloadMetadata::image).isEmpty()
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            WorkloadMetadata metadata = provider.lookup(new ContainerId(id)).orElseThrow();
            assertThat(metadata.containerName()).isEqualTo(id);
            assertThat(metadata.image()).isEqualTo(image);
            assertThat(metadata.imageDigest()).isEqualTo(manifestDigest);
            assertThat(metadata.podLabels()).containsEntry("team", "payments");
        }
    }

    @Test
    void anUnknownContainerIsNotFound() {
        assertThat(new ContainerdMetadataProvider(Clock.systemUTC()).lookup(new ContainerId("f".repeat(64))))
                .isEmpty();
    }
}
