package io.driftagent.agent.metadata.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.CompositeMetadataProvider;
import io.driftagent.agent.metadata.HostCommand;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real dockerd of this machine: a FROM-scratch busybox image imported locally, real containers. */
@Tag(TestTiers.CONTAINERS)
class DockerMetadataProviderTest {
    private static final String IMAGE = "drift-k8s-test/busybox:"
            + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());

    @TempDir
    static Path temp;
    private static String imageId;
    private static Path dockerRoot;
    private final List<String> started = new ArrayList<>();

    @BeforeAll
    static void importImage() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/bin/busybox")), "busybox-static is not installed (scripts/host-setup.sh)");
        assumeTrue(HostCommand.works("docker", "info"), "dockerd is not running (scripts/host-setup.sh starts it)");
        Path rootfs = HostCommand.busyboxRootfs(Files.createDirectories(temp.resolve("rootfs")));
        Path tar = temp.resolve("rootfs.tar");
        HostCommand.run(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), ".")).orThrow();
        HostCommand.run(List.of("docker", "import", "-", IMAGE), tar).orThrow();
        imageId = HostCommand.run(List.of("docker", "image", "inspect", "-f", "{{.Id}}", IMAGE)).orThrow().stdout().strip();
        dockerRoot = Path.of(HostCommand.run(List.of("docker", "info", "-f", "{{.DockerRootDir}}")).orThrow().stdout().strip());
    }

    @AfterAll
    static void removeImage() throws Exception {
        if (imageId != null) {
            HostCommand.run(List.of("docker", "rmi", "-f", IMAGE));
        }
    }

    @AfterEach
    void removeContainers() throws Exception {
        for (String id : started) {
            HostCommand.run(List.of("docker", "rm", "-f", id));
        }
    }

    private String runContainer(String name, Map<String, String> labels) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "run", "-d", "--network", "none", "--name", name));
        labels.forEach((key, value) -> command.addAll(List.of("--label", key + "=" + value)));
        command.addAll(List.of(IMAGE, "/bin/busybox", "sleep", "300"));
        String id = HostCommand.run(command).orThrow().stdout().strip();
        started.add(id);
        return id;
    }

    private static String uniqueName() {
        return "drift-k8s-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    }

    @Test
    void aDockerContainersNameImageAndLabelsComeFromItsConfig() throws Exception {
        String name = uniqueName();
        String id = runContainer(name, Map.of("app", "web", "tier", "front"));

        WorkloadMetadata metadata = new DockerMetadataProvider(dockerRoot, DockerMetadataProvider.DEFAULT_MAX_CONFIG_BYTES,
                Clock.systemUTC()).lookup(new ContainerId(id)).orElseThrow();

        assertThat(metadata).isEqualTo(new WorkloadMetadata(null, null, null, Map.of("app", "web", "tier", "front"),
                name, IMAGE, imageId));
    }

    @Test
    void aDockershimContainersKubernetesLabelsBecomeThePodFields() throws Exception {
        String id = runContainer(uniqueName(), Map.of(
                "io.kubernetes.pod.name", "web-1",
                "io.kubernetes.pod.namespace", "shop",
                "io.kubernetes.pod.uid", "5f0c8a7e-1d2b-4c3d-8e9f-0a1b2c3d4e5f",
                "io.kubernetes.container.name", "nginx"));

        WorkloadMetadata metadata = new DockerMetadataProvider(dockerRoot, DockerMetadataProvider.DEFAULT_MAX_CONFIG_BYTES,
                Clock.systemUTC()).lookup(new ContainerId(id)).orElseThrow();

        assertThat(metadata.podName()).isEqualTo("web-1");
        assertThat(metadata.namespace()).isEqualTo("shop");
        assertThat(metadata.podUid()).isEqualTo("5f0c8a7e-1d2b-4c3d-8e9f-0a1b2c3d4e5f");
        assertThat(metadata.containerName()).isEqualTo("nginx");
        assertThat(metadata.imageDigest()).isEqualTo(imageId);
    }

    @Test
    void theStandaloneCompositeAnswersForADockerContainerWithDockersRicherData() throws Exception {
        assumeTrue(dockerRoot.equals(DockerMetadataProvider.DEFAULT_DOCKER_ROOT), "dockerd uses a non-default root");
        String name = uniqueName();
        String id = runContainer(name, Map.of("app", "web"));

        WorkloadMetadata metadata = CompositeMetadataProvider.standaloneDefaults(Clock.systemUTC())
                .lookup(new ContainerId(id)).orElseThrow();

        assertThat(metadata.containerName()).isEqualTo(name);
        assertThat(metadata.image()).isEqualTo(IMAGE);
    }

    @Test
    void aContainerDockerDoesNotKnowIsNotFound() {
        assertThat(new DockerMetadataProvider(dockerRoot, DockerMetadataProvider.DEFAULT_MAX_CONFIG_BYTES,
                Clock.systemUTC()).lookup(new ContainerId("e".repeat(64)))).isEmpty();
    }
}
