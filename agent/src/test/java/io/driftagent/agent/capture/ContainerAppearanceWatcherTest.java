package io.driftagent.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.CapturedContainer;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.source.ExecEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The watcher against real containerd containers that live about 100 ms and are deleted with their writable layer
 * right after ({@code ctr run --rm}): each is captured with its layers, pod annotations, cgroup id and mount
 * namespace, still known after it is gone, and marked gone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.CONTAINERS)
class ContainerAppearanceWatcherTest {

    private static final String IMAGE = "docker.io/drift-capture/busybox:watch";
    private final ContainerdHost containerd = new ContainerdHost("drift-capture");
    private final ContainerCaptureRegistry registry =
            new ContainerCaptureRegistry(4096, Duration.ofMinutes(5), System::nanoTime);
    private ContainerAppearanceWatcher watcher;
    private Path work;

    @BeforeAll
    void startTheWatcher() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: the host's mount table, containerd");
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        work = Files.createTempDirectory("drift-capture");
        containerd.importBusybox(work, IMAGE);
        watcher = ContainerAppearanceWatcher.onThisHost(registry, Path.of("/proc"), Path.of("/"));
        watcher.start();
    }

    @AfterAll
    void stop() {
        if (watcher != null) {
            watcher.close();
        }
        containerd.removeAll();
        if (work != null) {
            HostCommands.quietly("rm", "-rf", work.toString());
        }
    }

    @Test
    void everyContainerThatLivedAboutAHundredMillisecondsIsCapturedWholeAndStillKnownAfterItWasDeleted()
            throws Exception {
        int captured = 0;
        int withCgroup = 0;
        for (int i = 0; i < 25; i++) {
            // given a pod's container that runs for about 100 ms and is deleted with its writable layer at once
            String id = ContainerdHost.randomContainerId();
            String podUid = UUID.randomUUID().toString();
            long before = System.nanoTime();
            containerd.runToCompletion(IMAGE, id, "busybox usleep 100000", true, ContainerdHost.criPodOptions(id, podUid,
                    "job-" + i, "batch", "worker", IMAGE));

            // then it is known, after it is gone, with what classification and alerts need
            Optional<CapturedContainer> found = awaitCaptured(new ContainerId(id));
            assertThat(found).as("container %s captured (%s)", id, registry.stats()).isPresent();
            captured++;
            CapturedContainer container = found.get();
            assertThat(container.identity().podUid()).isEqualTo(podUid);
            assertThat(container.annotations()).containsEntry("io.kubernetes.cri.sandbox-name", "job-" + i);
            OverlayRoot root = container.filesystems().root().orElseThrow();
            assertThat(root.lowerDirs()).isNotEmpty().allSatisfy(lower -> assertThat(lower).isDirectory());
            assertThat(root.upperDir().toString()).as("its writable layer, a host path")
                    .startsWith("/var/lib/containerd/").endsWith("/fs");
            if (container.cgroupId() != 0) {
                withCgroup++;
                ExecEvent byCgroup = new ExecEvent(1, 1, 1, 0, 0, 1, "sh", "/bin/sh", ExecEvent.FileId.NONE,
                        ExecEvent.FileId.NONE, container.cgroupId(), 0, ExecEvent.Flags.NONE,
                        ExecEvent.SourceKind.EBPF, System.nanoTime());
                assertThat(registry.find(byCgroup).map(c -> c.identity().id().value())).contains(id);
            }
            // and an exec known by its overlay's device alone, at a time of the container's life, finds it
            ExecEvent byDev = new ExecEvent(1, 1, 1, 0, 0, 1, "x", "/tmp/x",
                    new ExecEvent.FileId(root.mount().dev(), 12), ExecEvent.FileId.NONE, 0, 0,
                    new ExecEvent.Flags(true, true, false, false), ExecEvent.SourceKind.EBPF, before + 1);
            assertThat(registry.find(byDev).map(c -> c.identity().id().value())).as("by device").contains(id);
        }
        System.out.println("capture: " + captured + " of 25 captured, " + withCgroup + " with their cgroup id; "
                + registry.stats() + ", missed " + watcher.missed());
        assertThat(withCgroup).as("cgroup ids read through the container's init: " + registry.stats())
                .isGreaterThanOrEqualTo(23);
    }

    /** The capture of {@code id}, waiting up to 5 s for the watcher's thread (on a loaded machine it runs late). */
    private Optional<CapturedContainer> awaitCaptured(ContainerId id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        Optional<CapturedContainer> found = registry.byId(id);
        while (found.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            found = registry.byId(id);
        }
        return found;
    }
}
