package io.driftagent.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel's mount notices of a mount namespace that is not the agent's own, as the chart's pod (a mount namespace
 * of its own, hostPID) reads the node's: a process in a namespace of its own ({@code unshare -m}) stands for the node,
 * this JVM for the pod. A mount made there is described with its mount point as that namespace's table shows it; a
 * mount made in the agent's own namespace is not told. Needs root (CAP_SYS_ADMIN).
 */
@Tag(TestTiers.KERNEL)
class ForeignMountNamespaceNoticesKernelTest {

    private static final Path OWN_NAMESPACE = Path.of("/proc/self/ns/mnt");
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Process other;
    private Path otherNamespace;

    @BeforeEach
    void startAProcessInAMountNamespaceOfItsOwn() throws Exception {
        assumeTrue(HostCommands.isRoot(), "needs root: unshare -m and fanotify mount notices need CAP_SYS_ADMIN");
        other = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sleep", "600")
                .redirectErrorStream(true).start();
        otherNamespace = Path.of("/proc/" + other.pid() + "/ns/mnt");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (Files.readSymbolicLink(otherNamespace).equals(Files.readSymbolicLink(OWN_NAMESPACE))) {
            assertThat(other.isAlive()).as("unshare -m runs").isTrue();
            assertThat(System.nanoTime()).as("unshare -m made a namespace").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @AfterEach
    void stopIt() throws Exception {
        if (other != null) {
            other.destroyForcibly();
            other.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aMountAttachedAndDetachedAtOnceInAnotherNamespaceIsDescribedWithThatNamespacesMountPoint() throws Exception {
        // given the notices of a mount namespace that is not this process's
        Optional<MountNotifications> opened = MountNotifications.open(otherNamespace, OWN_NAMESPACE, System::nanoTime);
        assertThat(opened).as("mount notices of another namespace on kernel %s", System.getProperty("os.version"))
                .isPresent();
        Path there = Files.createDirectory(dir.resolve("there"));
        Path here = Files.createDirectory(dir.resolve("here"));
        try (MountNotifications notices = opened.get()) {
            List<MountInfoEntry> attachedNow = new CopyOnWriteArrayList<>();
            notices.start(attachedNow::add);

            // when a tmpfs is mounted and unmounted there by one shell, and another mounted here
            HostCommands.run("nsenter", "-t", Long.toString(other.pid()), "-m", "sh", "-c",
                    "mount -t tmpfs -o size=1m notice-there " + there + " && umount " + there);
            HostCommands.run("mount", "-t", "tmpfs", "-o", "size=1m", "notice-here", here.toString());
            try {
                // then the mount there was described while it was mounted, with its mount point there
                List<MountNotifications.Note> notes = new ArrayList<>();
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (notes.stream().noneMatch(n -> n instanceof MountNotifications.Detached)
                        && System.nanoTime() < deadline) {
                    notes.addAll(notices.drain());
                    Thread.sleep(20);
                }
                MountInfoEntry entry = notes.stream()
                        .filter(n -> n instanceof MountNotifications.Attached a && a.entry().isPresent()
                                && a.entry().get().source().equals("notice-there"))
                        .map(n -> ((MountNotifications.Attached) n).entry().get()).findFirst()
                        .orElseThrow(() -> new AssertionError("no described attach of notice-there in " + notes));
                assertThat(entry.mountPoint()).as(entry.toString()).isEqualTo(there.toString());
                assertThat(entry.fsType()).isEqualTo("tmpfs");
                assertThat(entry.root()).isEqualTo("/");
                assertThat(entry.superOptions()).as(entry.toString()).anyMatch(o -> o.startsWith("size="));
                assertThat(entry.dev()).isNotZero();
                assertThat(attachedNow).as("told on the notice thread").contains(entry);
                // and the mount here, in this process's namespace, is not told
                Thread.sleep(200);
                notes.addAll(notices.drain());
                assertThat(notes).as("notices of the other namespace only")
                        .noneMatch(n -> n instanceof MountNotifications.Attached a && a.entry().isPresent()
                                && a.entry().get().source().equals("notice-here"));
            } finally {
                HostCommands.quietly("umount", here.toString());
            }
        }
    }

    @Test
    void theTableWatcherOfAnotherNamespaceMatchesEachNoticeToThatNamespacesTableLine() throws Exception {
        // given the watcher of the other process's mount table, with the notices of its namespace
        Path mountInfo = Path.of("/proc/" + other.pid() + "/mountinfo");
        List<HostMountTable.Change> changes = new CopyOnWriteArrayList<>();
        List<MountInfoEntry> attachedNow = new CopyOnWriteArrayList<>();
        Path there = Files.createDirectory(dir.resolve("kept"));
        try (HostMountTable table = new HostMountTable(mountInfo, otherNamespace, OWN_NAMESPACE, System::nanoTime)) {
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
            assertThat(table.notices()).as("mount notices of another namespace used on kernel %s",
                    System.getProperty("os.version")).isPresent();

            // when a tmpfs is mounted there and stays
            HostCommands.run("nsenter", "-t", Long.toString(other.pid()), "-m", "mount", "-t", "tmpfs", "-o",
                    "size=1m", "kept-there", there.toString());

            // then the table's added line of it and the notice's description of it agree: the same mount (id,
            // device) at the same mount point, as the watcher matches them (which of the two comes first is a race)
            long deadline = System.nanoTime() + WAIT.toNanos();
            Optional<MountInfoEntry> line = Optional.empty();
            Optional<MountInfoEntry> described = Optional.empty();
            while ((line.isEmpty() || described.isEmpty()) && System.nanoTime() < deadline) {
                line = changes.stream().flatMap(c -> c.added().stream())
                        .filter(e -> e.source().equals("kept-there")).findFirst();
                described = attachedNow.stream().filter(e -> e.source().equals("kept-there")).findFirst();
                Thread.sleep(20);
            }
            assertThat(line).as("a table read showed the mount: %s", changes).isPresent();
            assertThat(described).as("the notice thread described the mount").isPresent();
            assertThat(line.get().mountPoint()).isEqualTo(there.toString());
            assertThat(described.get().mountPoint()).as(described.get().toString()).isEqualTo(line.get().mountPoint());
            assertThat(described.get().mountId()).isEqualTo(line.get().mountId());
            assertThat(described.get().dev()).isEqualTo(line.get().dev());
            assertThat(described.get().root()).isEqualTo(line.get().root());
            assertThat(described.get().fsType()).isEqualTo(line.get().fsType());
        }
    }
}
