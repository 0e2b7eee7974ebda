package io.driftagent.agent.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.containerd.ContainerdMetadataProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bundle files are partly container-controlled: reads are bounded and touch nothing but regular files. */
class RuntimeStateFilesTest {
    @TempDir
    Path temp;

    @Test
    void aFileLargerThanTheBoundIsRefused() throws IOException {
        Path file = Files.write(temp.resolve("config.json"), new byte[2048]);

        assertThatThrownBy(() -> RuntimeStateFiles.read(file, 1024)).isInstanceOf(IOException.class)
                .hasMessageContaining("larger than 1024");
    }

    @Test
    void aSymlinkIsNotFollowed() throws IOException {
        Path target = Files.writeString(temp.resolve("secret"), "{}");
        Path link = Files.createSymbolicLink(temp.resolve("config.json"), target);

        assertThatThrownBy(() -> RuntimeStateFiles.read(link, 1024)).hasMessageContaining("not a regular file");
    }

    @Test
    void aFifoIsNeverOpened() throws Exception {
        Path fifo = temp.resolve("config.json");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();

        assertThatThrownBy(() -> RuntimeStateFiles.read(fifo, 1024)).hasMessageContaining("not a regular file");
    }

    @Test
    void aMissingFileIsEmpty() throws IOException {
        assertThat(RuntimeStateFiles.read(temp.resolve("absent.json"), 1024)).isEmpty();
    }

    @Test
    void anOversizedBundleConfigMakesTheContainerUnknownInsteadOfFailing() throws IOException {
        String id = "a".repeat(64);
        Path bundle = Files.createDirectories(temp.resolve("k8s.io").resolve(id));
        Files.writeString(bundle.resolve("config.json"), "{\"annotations\":{\"x\":\"" + "y".repeat(4096) + "\"}}");

        ContainerdMetadataProvider provider = new ContainerdMetadataProvider(temp, 1024, Clock.systemUTC());

        assertThat(provider.lookup(new ContainerId(id))).isEmpty();
    }

    @Test
    void aSandboxContainerHasThePodButNoContainerName() throws IOException {
        String id = "b".repeat(64);
        Path bundle = Files.createDirectories(temp.resolve("k8s.io").resolve(id));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion":"1.0.2","annotations":{
                  "io.kubernetes.cri.container-type":"sandbox",
                  "io.kubernetes.cri.sandbox-name":"web-1",
                  "io.kubernetes.cri.sandbox-namespace":"shop",
                  "io.kubernetes.cri.sandbox-uid":"uid-1"}}""");

        ContainerdMetadataProvider provider = new ContainerdMetadataProvider(temp, 1 << 20, Clock.systemUTC());

        assertThat(provider.lookup(new ContainerId(id))).get().satisfies(m -> {
            assertThat(m.podName()).isEqualTo("web-1");
            assertThat(m.containerName()).isNull();
        });
    }
}
