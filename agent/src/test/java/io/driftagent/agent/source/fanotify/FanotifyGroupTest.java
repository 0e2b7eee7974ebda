package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which paths {@link FanotifyGroup} marks in the kernel, against a libc whose statx answers from a table. */
class FanotifyGroupTest {

    /** What a path names now: its device (major:minor) and mount id; absent: the path is gone (ENOENT). */
    private record Names(int major, int minor, long mountId) {}

    private final Map<String, Names> table = new HashMap<>();
    /** The kernel calls: "ADD FILESYSTEM /path", "REMOVE MOUNT /path". */
    private final List<String> kernel = new ArrayList<>();
    private final List<Integer> refusedFlags = new ArrayList<>();
    private int errno;

    private FanotifyGroup group() throws Exception {
        LinuxLibC libc = (LinuxLibC) Proxy.newProxyInstance(LinuxLibC.class.getClassLoader(),
                new Class<?>[] {LinuxLibC.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "fanotify_init" -> 7;
                    case "eventfd" -> 8;
                    case "close" -> 0;
                    case "statx" -> statx((String) args[1], (ByteBuffer) args[4]);
                    case "fanotify_mark" -> fanotifyMark((int) args[1], (String) args[4]);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return new FanotifyGroup(new Native(libc, () -> errno), 0, Native.FAN_OPEN_EXEC);
    }

    private int statx(String path, ByteBuffer buf) {
        Names n = table.get(path);
        if (n == null) {
            errno = 2;
            return -1;
        }
        buf.putInt(136, n.major()).putInt(140, n.minor()).putLong(144, n.mountId());
        return 0;
    }

    private int fanotifyMark(int flags, String path) {
        if (refusedFlags.contains(flags & (Native.FAN_MARK_FILESYSTEM | Native.FAN_MARK_MOUNT))) {
            errno = 18;
            return -1;
        }
        String op = (flags & Native.FAN_MARK_ADD) != 0 ? "ADD" : "REMOVE";
        String kind = (flags & Native.FAN_MARK_FILESYSTEM) != 0 ? "FILESYSTEM" : "MOUNT";
        kernel.add(op + " " + kind + " " + path);
        return 0;
    }

    @Test
    void aSecondPathOnTheSameDeviceButAnotherMountIsMarkedInTheKernel() throws Exception {
        // given a removed container's root still watched (its pid's root now names its device and mount no more:
        // the process is gone) and the next container's overlay given the same, freed, anonymous device
        table.put("/proc/100/root", new Names(0, 75, 900));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/proc/100/root"));
            table.remove("/proc/100/root");
            table.put("/run/containerd/b/rootfs", new Names(0, 75, 930));

            // when the new overlay is marked
            MarkKind kind = group.mark(Path.of("/run/containerd/b/rootfs"));

            // then the kernel is asked to mark it
            assertThat(kind).isEqualTo(MarkKind.FILESYSTEM);
            assertThat(kernel).containsExactly("ADD FILESYSTEM /proc/100/root", "ADD FILESYSTEM /run/containerd/b/rootfs");
        }
    }

    @Test
    void aMountWithTheSameDeviceAndMountIdAsAWatchedPathThatNamesThemNoMoreIsMarkedInTheKernel() throws Exception {
        // given a container's rootfs watched, then unmounted, and the next one given its device and its mount id
        table.put("/run/containerd/a/rootfs", new Names(0, 75, 930));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/run/containerd/a/rootfs"));
            table.put("/run/containerd/a/rootfs", new Names(254, 1, 20)); // the host disk under the mount point
            table.put("/run/containerd/b/rootfs", new Names(0, 75, 930));

            group.mark(Path.of("/run/containerd/b/rootfs"));

            assertThat(kernel).containsExactly("ADD FILESYSTEM /run/containerd/a/rootfs",
                    "ADD FILESYSTEM /run/containerd/b/rootfs");
        }
    }

    @Test
    void aWatchedPathGivenToAnotherMountIsMarkedAgain() throws Exception {
        // given a container's root watched through its pid, and that pid given to a process of another container
        table.put("/proc/100/root", new Names(0, 75, 900));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/proc/100/root"));
            table.put("/proc/100/root", new Names(0, 80, 940));

            group.mark(Path.of("/proc/100/root"));

            assertThat(kernel).containsExactly("ADD FILESYSTEM /proc/100/root", "ADD FILESYSTEM /proc/100/root");
        }
    }

    @Test
    void aSecondPathToAMountStillWatchedSharesItsMarkAndKeepsItWhenTheFirstGoes() throws Exception {
        // given a mount watched through two paths that both still name it
        table.put("/proc/1/root/run/containerd/a/rootfs", new Names(0, 75, 930));
        table.put("/run/containerd/a/rootfs", new Names(0, 75, 930));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/proc/1/root/run/containerd/a/rootfs"));
            group.mark(Path.of("/run/containerd/a/rootfs"));
            assertThat(kernel).as("one kernel call for one mount").hasSize(1);

            // when one path is unwatched, the mark stays; when the other is too, it goes
            group.unmark(Path.of("/run/containerd/a/rootfs"));
            assertThat(kernel).hasSize(1);
            group.unmark(Path.of("/proc/1/root/run/containerd/a/rootfs"));
            assertThat(kernel).containsExactly("ADD FILESYSTEM /proc/1/root/run/containerd/a/rootfs",
                    "REMOVE FILESYSTEM /proc/1/root/run/containerd/a/rootfs");
        }
    }

    @Test
    void unwatchingOneOfTwoMountsOfOneSuperblockKeepsTheFilesystemMark() throws Exception {
        // given a container's overlay watched through the host's mount and through its process's root (its own copy
        // of the mount, with another id)
        table.put("/run/containerd/a/rootfs", new Names(0, 75, 930));
        table.put("/proc/100/root", new Names(0, 75, 990));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/run/containerd/a/rootfs"));
            group.mark(Path.of("/proc/100/root"));

            group.unmark(Path.of("/proc/100/root"));

            assertThat(kernel).noneMatch(call -> call.startsWith("REMOVE"));
            assertThat(group.marks()).containsOnlyKeys(Path.of("/run/containerd/a/rootfs"));
        }
    }

    @Test
    void unwatchingTheNewMountIgnoresAStalePathWithItsDevice() throws Exception {
        // given a gone container's root still watched and the next one's overlay on its device marked too
        table.put("/proc/100/root", new Names(0, 75, 900));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/proc/100/root"));
            table.remove("/proc/100/root");
            table.put("/run/containerd/b/rootfs", new Names(0, 75, 930));
            group.mark(Path.of("/run/containerd/b/rootfs"));

            // when the new one is unwatched while still mounted, its kernel mark goes
            group.unmark(Path.of("/run/containerd/b/rootfs"));

            assertThat(kernel).endsWith("REMOVE FILESYSTEM /run/containerd/b/rootfs");
        }
    }

    @Test
    void aMountMarkIsMadeForANewMountWhereTheFilesystemMarkIsRefused() throws Exception {
        refusedFlags.add(Native.FAN_MARK_FILESYSTEM);
        table.put("/proc/100/root", new Names(0, 75, 900));
        try (FanotifyGroup group = group()) {
            group.mark(Path.of("/proc/100/root"));
            table.remove("/proc/100/root");
            table.put("/run/containerd/b/rootfs", new Names(0, 75, 900)); // device and mount id both given again

            assertThat(group.mark(Path.of("/run/containerd/b/rootfs"))).isEqualTo(MarkKind.MOUNT);

            assertThat(kernel).containsExactly("ADD MOUNT /proc/100/root", "ADD MOUNT /run/containerd/b/rootfs");
        }
    }
}
