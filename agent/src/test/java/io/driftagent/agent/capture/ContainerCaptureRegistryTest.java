package io.driftagent.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.CapturedContainer;
import io.driftagent.agent.attribution.CgroupIdentity;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.source.ExecEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ContainerCaptureRegistryTest {

    private static final long OVERLAY_DEV = 51; // 0:51, reused by the kernel as soon as it is freed
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ContainerCaptureRegistry registry = new ContainerCaptureRegistry(3, Duration.ofSeconds(120), now::get);

    @Test
    void anExecIsTheContainerWhoseLifeContainsItWhenTwoContainersHadTheSameOverlayDevice() {
        // given container a mounted, gone, then container b mounted on the same anonymous device
        appear("a", 1);
        long execOfA = tick();
        tick();
        registry.gone("a");
        tick();
        appear("b", 2);
        long execOfB = tick();

        // when execs that carry only the device (their cgroup and namespace unknown) are looked up
        // then each is its own container's
        assertThat(registry.find(execOnDev(execOfA)).map(c -> c.identity().id().value())).contains("a");
        assertThat(registry.find(execOnDev(execOfB)).map(c -> c.identity().id().value())).contains("b");
    }

    @Test
    void aCgroupIdCapturedFromTheContainersInitFindsItExactlyAfterItIsGone() {
        appear("a", 1);
        CgroupIdentity identity = identity("a");
        registry.completed("a", identity, 777, 4026532000L, List.of(new ContainerMount(9, 77, "/data", "/", "tmpfs",
                "tmpfs")));
        registry.gone("a");
        now.addAndGet(Duration.ofSeconds(60).toNanos());

        ExecEvent exec = new ExecEvent(1, 1, 1, 0, 0, 1, "x", "/tmp/x", new ExecEvent.FileId(OVERLAY_DEV, 5),
                ExecEvent.FileId.NONE, 777, 0, new ExecEvent.Flags(true, true, false, false),
                ExecEvent.SourceKind.EBPF, now.get());
        CapturedContainer found = registry.find(exec).orElseThrow();

        assertThat(found.identity().id().value()).isEqualTo("a");
        assertThat(found.cgroupId()).isEqualTo(777);
        assertThat(found.filesystems().root()).isPresent();
        assertThat(found.filesystems().nonRootMountWithDev(77)).isPresent();
        assertThat(registry.stats()).containsEntry("found_cgroup_id", 1L);
    }

    @Test
    void aGoneContainerIsForgottenAfterTheGracePeriodAndAFullRegistryEvictsTheOldestGoneFirstCounted() {
        appear("a", 1);
        appear("b", 2);
        appear("c", 3);
        registry.gone("b");

        appear("d", 4); // full: b (gone) goes first, although a is older

        assertThat(registry.byId(new ContainerId("b"))).isEmpty();
        assertThat(registry.byId(new ContainerId("a"))).isPresent();
        assertThat(registry.stats()).containsEntry("evicted", 1L);

        registry.gone("a");
        now.addAndGet(Duration.ofSeconds(121).toNanos());
        registry.expire();

        assertThat(registry.byId(new ContainerId("a"))).isEmpty();
        assertThat(registry.stats()).containsEntry("expired", 1L);
        assertThat(registry.size()).isEqualTo(2);
    }

    @Test
    void capturedPodMetadataAnswersOnlyOnceTheContainerIsGoneTheLiveBundleDecidingBefore() {
        registry.appeared("a", identity("a"), root("a", 1), Map.of("io.kubernetes.cri.container-type", "container",
                "io.kubernetes.cri.sandbox-name", "job-1", "io.kubernetes.cri.sandbox-namespace", "batch",
                "io.kubernetes.cri.container-name", "worker"));
        CapturedMetadataProvider metadata = new CapturedMetadataProvider(registry);

        assertThat(metadata.lookup(new ContainerId("a"))).as("alive: the bundle answers").isEmpty();
        registry.gone("a");

        assertThat(metadata.lookup(new ContainerId("a"))).hasValueSatisfying(m -> {
            assertThat(m.podName()).isEqualTo("job-1");
            assertThat(m.namespace()).isEqualTo("batch");
            assertThat(m.containerName()).isEqualTo("worker");
        });
    }

    @Test
    void aContainerToldOfLateIsAliveFromWhenTheKernelSaidItsRootfsWasMountedUntilItWasUnmounted() {
        // given a container a that came and went before anything read the mount table, then b on the same device,
        // both told of later with the times the kernel's mount notices were read
        long mountedA = tick();
        long execOfA = tick();
        long unmountedA = tick();
        long mountedB = tick();
        long execOfB = tick();
        tick();
        registry.appeared("a", identity("a"), root("a", 1), Map.of(), mountedA);
        registry.gone("a", unmountedA);
        registry.appeared("b", identity("b"), root("b", 2), Map.of(), mountedB);

        // when execs that carry only the device are looked up, then each is its own container's, timed as told
        assertThat(registry.find(execOnDev(execOfA)).map(c -> c.identity().id().value())).contains("a");
        assertThat(registry.find(execOnDev(execOfB)).map(c -> c.identity().id().value())).contains("b");
    }

    @Test
    void anExecWhoseSourceSaysItsDeviceDoesNotTellItsContainerIsNotFoundByTheDevice() {
        // given container a alive on the overlay device
        appear("a", 1);
        long exec = tick();

        // when an exec whose overlay device served several overlays meanwhile (the fanotify source could not tell
        // which held its file) is looked up
        ExecEvent doubtful = new ExecEvent(1, 1, 1, 0, 0, 1, "x", "/tmp/x", new ExecEvent.FileId(OVERLAY_DEV, 5),
                ExecEvent.FileId.NONE, 0, 0, new ExecEvent.Flags(true, true, false, false, true),
                ExecEvent.SourceKind.FANOTIFY, exec);

        // then no container is named for it, while the same exec without the doubt is a's
        assertThat(registry.find(doubtful)).isEmpty();
        assertThat(registry.find(execOnDev(exec)).map(c -> c.identity().id().value())).contains("a");
    }

    @Test
    void aContainerThatAppearedWellAfterAnExecOnItsDeviceIsNotTheExecs() {
        // given an exec on an overlay that is no container's (mounted by hand), then, seconds later, container a
        // mounted with the device the kernel gave that overlay before
        long exec = tick();
        now.addAndGet(java.util.concurrent.TimeUnit.SECONDS.toNanos(3));
        appear("a", 1);

        // when the exec, carrying only the device, is looked up, then it is not a's
        assertThat(registry.find(execOnDev(exec))).isEmpty();
        // and an exec timed just before a's rootfs was seen (the watchers read a mount a moment after it is made) is
        long late = now.get() - ContainerCaptureRegistry.SEEN_LATE_NANOS / 2;
        assertThat(registry.find(execOnDev(late)).map(c -> c.identity().id().value())).contains("a");
    }

    private void appear(String id, int layer) {
        registry.appeared(id, identity(id), root(id, layer), Map.of());
    }

    private static OverlayRoot root(String id, int layer) {
        return new OverlayRoot(new ContainerMount(100 + layer, OVERLAY_DEV, "/run/containerd/"
                + "io.containerd.runtime.v2.task/ns/" + id + "/rootfs", "/", "overlay", "overlay"),
                List.of(Path.of("/snapshots/1/fs")), Path.of("/snapshots/" + (10 + layer) + "/fs"),
                Path.of("/snapshots/" + (10 + layer) + "/work"));
    }

    private static CgroupIdentity identity(String id) {
        return new CgroupIdentity(new ContainerId(id), ContainerRuntime.CONTAINERD, null, "/ns/" + id);
    }

    private long tick() {
        return now.addAndGet(1_000_000L);
    }

    private static ExecEvent execOnDev(long at) {
        return new ExecEvent(1, 1, 1, 0, 0, 1, "x", "/tmp/x", new ExecEvent.FileId(OVERLAY_DEV, 5),
                ExecEvent.FileId.NONE, 0, 0, new ExecEvent.Flags(true, true, false, false), ExecEvent.SourceKind.EBPF, at);
    }
}
