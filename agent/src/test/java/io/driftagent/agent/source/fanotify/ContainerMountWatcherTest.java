package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.host.HostMountTable;
import io.driftagent.agent.host.MountInfoEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

class ContainerMountWatcherTest {

    private static final String TASKS = "/run/containerd/io.containerd.runtime.v2.task/ns/";
    private static final String SNAPSHOTS = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/";

    private final List<Path> marked = new ArrayList<>();
    private final List<Path> unmarked = new ArrayList<>();
    private final List<OverlayLayers.SeenOverlay> seen = new ArrayList<>();
    private final MountOwners owners = new MountOwners();
    private final ContainerMountWatcher watcher = new ContainerMountWatcher(null, Path.of("/proc"), 1,
            new ContainerMountWatcher.Marker() {
                @Override
                public MarkKind mark(Path path) {
                    marked.add(path);
                    return MarkKind.FILESYSTEM;
                }

                @Override
                public void unmark(Path path) {
                    unmarked.add(path);
                }
            }, seen::addAll, overlay -> { }, owners, null, new LongAdder(), new LongAdder());

    @Test
    void aContainerRootfsGivenTheMountIdAndDeviceOfOneRemovedSinceTheLastReadIsANewOverlay() {
        // given container a's rootfs overlay (mount id 49, device 0:40) read in the table
        MountInfoEntry a = rootfs(49, 40, "a", "10");
        watcher.changed(new HostMountTable.Change(List.of(a), List.of(a), List.of()));
        seen.clear();

        // when the next read finds it gone and container b's rootfs mounted with the same mount id and device (both
        // the lowest free when b was started)
        MountInfoEntry b = rootfs(49, 40, "b", "14");
        watcher.changed(new HostMountTable.Change(List.of(b), List.of(b), List.of(a)));

        // then a's overlay is unmarked and told unmounted, b's is marked and told mounted
        assertThat(unmarked).containsExactly(Path.of("/proc/1/root" + TASKS + "a/rootfs"));
        assertThat(marked).containsExactly(Path.of("/proc/1/root" + TASKS + "a/rootfs"),
                Path.of("/proc/1/root" + TASKS + "b/rootfs"));
        assertThat(seen).extracting(s -> s.overlay().upperDir().toString(), s -> s.mountedNanos() >= 0,
                        s -> s.unmountedNanos() >= 0)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(SNAPSHOTS + "10/fs", false, true),
                        org.assertj.core.groups.Tuple.tuple(SNAPSHOTS + "14/fs", true, false));
        // and the device had two lives: an exec queued in a's and read in b's fits both
        assertThat(owners.timing(DEV_40, Long.MIN_VALUE + 1, System.nanoTime(), Long.MIN_VALUE, false)
                .livesThatFit()).isEqualTo(2);
    }

    @Test
    void aMountWhoseLineOnlyChangedIsStillTheSameOverlay() {
        // given container a's rootfs overlay read in the table
        MountInfoEntry a = rootfs(49, 40, "a", "10");
        watcher.changed(new HostMountTable.Change(List.of(a), List.of(a), List.of()));

        // when its line changes (a peer group tag added once the container's namespace copied it)
        MountInfoEntry tagged = new MountInfoEntry(a.mountId(), a.parentId(), a.dev(), a.root(), a.mountPoint(),
                List.of("shared:7"), a.fsType(), a.source(), a.superOptions());
        watcher.changed(new HostMountTable.Change(List.of(tagged), List.of(tagged), List.of(a)));

        // then it is neither unmarked nor marked again, and its one life goes on
        assertThat(unmarked).isEmpty();
        assertThat(marked).hasSize(1);
        assertThat(owners.mountedSince(DEV_40)).isNotEqualTo(Long.MIN_VALUE);
        assertThat(owners.timing(DEV_40, Long.MIN_VALUE + 1, System.nanoTime(), Long.MIN_VALUE, false)
                .livesThatFit()).isEqualTo(1);
    }

    private static final long DEV_40 = io.driftagent.agent.host.DeviceNumber.makedev(0, 40);

    private static MountInfoEntry rootfs(int mountId, int minor, String container, String snapshot) {
        return new MountInfoEntry(mountId, 27, io.driftagent.agent.host.DeviceNumber.makedev(0, minor), "/",
                TASKS + container + "/rootfs", List.of(), "overlay", "overlay",
                List.of("rw", "lowerdir=" + SNAPSHOTS + "1/fs", "upperdir=" + SNAPSHOTS + snapshot + "/fs",
                        "workdir=" + SNAPSHOTS + snapshot + "/work"));
    }
}
