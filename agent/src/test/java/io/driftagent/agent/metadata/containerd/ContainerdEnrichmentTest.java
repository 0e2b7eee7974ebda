package io.driftagent.agent.metadata.containerd;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A plain container's image is read from containerd's records in the background; lookups say "not yet" meanwhile. */
class ContainerdEnrichmentTest {

    private static final ContainerId ID = new ContainerId("plain-1");

    @TempDir
    Path taskRoot;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final CountDownLatch release = new CountDownLatch(1);
    private final ContainerdRecords slowRecords = (namespace, id) -> {
        release.await(10, TimeUnit.SECONDS);
        return Optional.of(new ContainerdRecord("docker.io/library/busybox:1", "sha256:" + "a".repeat(64),
                Map.of("team", "payments")));
    };

    @Test
    void whileTheRecordIsReadALookupSaysNotYetThenAnswersWithTheImage() throws Exception {
        bundle();
        try (ContainerdMetadataProvider provider = provider()) {
            Optional<WorkloadMetadata> first = provider.lookup(ID);
            release.countDown();
            WorkloadMetadata enriched = awaitImage(provider);

            assertThat(first).as("not yet: the pipeline parks the exec and looks again").isEmpty();
            assertThat(enriched.containerName()).isEqualTo("plain-1");
            assertThat(enriched.image()).isEqualTo("docker.io/library/busybox:1");
            assertThat(enriched.podLabels()).containsEntry("team", "payments");
        }
    }

    @Test
    void aRecordThatTakesTooLongCostsTheImageNotTheRestOfTheMetadata() throws Exception {
        bundle();
        try (ContainerdMetadataProvider provider = provider()) {
            assertThat(provider.lookup(ID)).isEmpty();
            clock.advance(Duration.ofMillis(ContainerdMetadataProvider.ENRICHMENT_WITHHELD_MILLIS));

            Optional<WorkloadMetadata> later = provider.lookup(ID);

            assertThat(later).get().extracting(WorkloadMetadata::containerName, WorkloadMetadata::image)
                    .containsExactly("plain-1", null);
            release.countDown();
        }
    }

    private ContainerdMetadataProvider provider() {
        return new ContainerdMetadataProvider(taskRoot, 1 << 20, clock, slowRecords);
    }

    private void bundle() throws Exception {
        Path dir = Files.createDirectories(taskRoot.resolve("drift-e2e").resolve(ID.value()));
        Files.writeString(dir.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"annotations\":{}}");
    }

    private WorkloadMetadata awaitImage(ContainerdMetadataProvider provider) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            Optional<WorkloadMetadata> found = provider.lookup(ID);
            if (found.isPresent() && found.get().image() != null) {
                return found.get();
            }
            Thread.sleep(25);
        }
        throw new AssertionError("the record never arrived");
    }

}
