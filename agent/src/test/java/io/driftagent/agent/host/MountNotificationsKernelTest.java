package io.driftagent.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel's mount notices (fanotify FAN_MNT_ATTACH / FAN_MNT_DETACH with statmount, Linux 6.15) on this machine's
 * real kernel: a mount that comes and goes at once is still described, and the host mount table's watcher, held while
 * it comes and goes (as a loaded node's watcher is late), still tells its listeners of it. Needs root.
 */
@Tag(TestTiers.KERNEL)
class MountNotificationsKernelTest {

    private static final Path OWN_NAMESPACE = Path.of("/proc/self/ns/mnt");
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void aMountAttachedAndDetachedAtOnceIsDescribedByItsAttachNoticeAndItsDetachIsToldToo() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: fanotify mount notices need CAP_SYS_ADMIN");
        // given the notices of this process's mount namespace (this kernel has them: 6.15 or later)
        Optional<MountNotifications> opened = MountNotifications.open(OWN_NAMESPACE, OWN_NAMESPACE, System::nanoTime);
        assertThat(opened).as("mount notices on kernel %s", System.getProperty("os.version")).isPresent();
        List<MountInfoEntry> attachedNow = new CopyOnWriteArrayList<>();
        Path mountPoint = Files.createDirectory(dir.resolve("f2-notice"));
        try (MountNotifications notices = opened.get()) {
            notices.start(attachedNow::add);

            // when a tmpfs is mounted and unmounted by one shell, before anything reads the mount table
            HostCommands.run("sh", "-c", "mount -t tmpfs -o size=1m f2-notice " + mountPoint + " && umount "
                    + mountPoint);

            // then its attach was described while it was mounted, and its detach told, in that order
            List<MountNotifications.Note> notes = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (notes.stream().noneMatch(n -> n instanceof MountNotifications.Detached)
                    && System.nanoTime() < deadline) {
                notes.addAll(notices.drain());
                Thread.sleep(20);
            }
            MountNotifications.Attached attached = notes.stream()
                    .filter(n -> n instanceof MountNotifications.Attached a && a.entry().isPresent()
                            && a.entry().get().mountPoint().equals(mountPoint.toString()))
                    .map(MountNotifications.Attached.class::cast).findFirst()
                    .orElseThrow(() -> new AssertionError("no described attach of " + mountPoint + " in " + notes));
            MountInfoEntry entry = attached.entry().get();
            assertThat(entry.fsType()).isEqualTo("tmpfs");
            assertThat(entry.source()).isEqualTo("f2-notice");
            assertThat(entry.superOptions()).as(entry.toString()).anyMatch(o -> o.startsWith("size="));
            assertThat(entry.dev()).isNotZero();
            assertThat(attachedNow).as("told on the notice thread").contains(entry);
            assertThat(notes).as("its detach follows its attach").anySatisfy(n -> {
                assertThat(n).isInstanceOf(MountNotifications.Detached.class);
                assertThat(n.uniqueId()).isEqualTo(attached.uniqueId());
                assertThat(n.readNanos()).isGreaterThanOrEqualTo(attached.readNanos());
            });
        }
    }

    @Test
    void aMountThatCameAndWentWhileTheTableWatcherWasHeldIsToldToItsListenersAsTransient() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: fanotify mount notices need CAP_SYS_ADMIN");
        // given the watcher of this process's mount table, with the kernel's notices
        List<HostMountTable.Change> changes = new CopyOnWriteArrayList<>();
        List<MountInfoEntry> attachedNow = new CopyOnWriteArrayList<>();
        Path mountPoint = Files.createDirectory(dir.resolve("f2-transient"));
        try (HostMountTable table = new HostMountTable(Path.of("/proc/self/mountinfo"), OWN_NAMESPACE, OWN_NAMESPACE,
                System::nanoTime)) {
            table.addListener(new HostMountTable.Listener() {
                @Override
                public void changed(HostMountTable.Change change) {
                    changes.add(change);
                }

                @Override
                public void attached(MountInfoEntry entry) {
                    attachedNow.add(entry);
                }
            });
            table.start();
            assertThat(table.notices()).as("mount notices used on kernel %s", System.getProperty("os.version"))
                    .isPresent();
            Thread watcher = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("drift-host-mount-table") && t.isAlive()).findFirst()
                    .orElseThrow();

            // when a tmpfs is mounted and unmounted while the watcher is held (a loaded node's watcher is late)
            suspend(watcher, true);
            try {
                HostCommands.run("mount", "-t", "tmpfs", "-o", "size=1m", "f2-transient", mountPoint.toString());
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (attachedNow.stream().noneMatch(e -> e.mountPoint().equals(mountPoint.toString()))
                        && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                HostCommands.run("umount", mountPoint.toString());
            } finally {
                suspend(watcher, false);
            }

            // then the listeners are told of it as a mount that came and went, with its times in order
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (transientAt(changes, mountPoint).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            HostMountTable.Transient t = transientAt(changes, mountPoint).orElseThrow(
                    () -> new AssertionError("no transient mount at " + mountPoint + " in " + changes));
            assertThat(t.entry().fsType()).isEqualTo("tmpfs");
            assertThat(t.detachedNanos()).isGreaterThan(t.attachedNanos());
            assertThat(changes).as("never in a table read")
                    .noneMatch(c -> c.current().stream().anyMatch(e -> e.mountPoint().equals(mountPoint.toString())));
            assertThat(table.transients()).isGreaterThanOrEqualTo(1);
        }
    }

    private static Optional<HostMountTable.Transient> transientAt(List<HostMountTable.Change> changes, Path mountPoint) {
        return changes.stream().flatMap(c -> c.transients().stream())
                .filter(t -> t.entry().mountPoint().equals(mountPoint.toString())).findFirst();
    }

    /** Holds or releases a thread (Thread.suspend, deprecated but working on Java 17: test-only). */
    private static void suspend(Thread thread, boolean hold) throws Exception {
        Method method = Thread.class.getMethod(hold ? "suspend" : "resume");
        method.invoke(thread);
    }
}
