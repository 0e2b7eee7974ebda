package io.driftagent.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostMountTableTest {

    private static final String ROOT = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
    private static final String PROC = "23 22 0:5 / /proc rw shared:2 - proc proc rw\n";
    private static final String ROOTFS = "901 22 0:77 / /run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs"
            + " rw shared:400 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n";

    @TempDir
    Path dir;

    private static final class Recorder implements HostMountTable.Listener {
        final List<HostMountTable.Change> changes = new CopyOnWriteArrayList<>();
        volatile int wakes;

        @Override
        public void changed(HostMountTable.Change change) {
            changes.add(change);
        }

        @Override
        public void woke() {
            wakes++;
        }
    }

    @Test
    void startGivesTheWholeTableAsAddedBeforeItReturnsThenAMountAndAnUnmountAsTheyHappen() throws Exception {
        // given a mount table with two mounts and a listener
        Path table = dir.resolve("mountinfo");
        Files.writeString(table, ROOT + PROC);
        Recorder listener = new Recorder();
        try (HostMountTable watcher = new HostMountTable(table, System::nanoTime)) {
            watcher.addListener(listener);

            // when the watcher starts, then the listener already has the whole table
            watcher.start();
            assertThat(listener.changes).hasSize(1);
            assertThat(listener.changes.get(0).added()).extracting(MountInfoEntry::mountPoint)
                    .containsExactly("/", "/proc");
            assertThat(listener.changes.get(0).removed()).isEmpty();

            // when a container's rootfs is mounted and /proc unmounted
            Files.writeString(table, ROOT + ROOTFS);

            // then the listener is told exactly that (the re-read fallback: a regular file never signals POLLPRI)
            awaitChanges(listener, 2);
            HostMountTable.Change second = listener.changes.get(1);
            assertThat(second.added()).extracting(MountInfoEntry::mountId).containsExactly(901);
            assertThat(second.removed()).extracting(MountInfoEntry::mountPoint).containsExactly("/proc");
            assertThat(second.current()).extracting(MountInfoEntry::mountId).containsExactly(22, 901);
            assertThat(watcher.reads()).isGreaterThanOrEqualTo(2);
            assertThat(watcher.errors()).isZero();
        }
    }

    @Test
    void aListenerAddedWhileTheWatcherRunsGetsTheCurrentTableAtOnce() throws Exception {
        // given a running watcher
        Path table = dir.resolve("mountinfo");
        Files.writeString(table, ROOT + ROOTFS);
        try (HostMountTable watcher = new HostMountTable(table, System::nanoTime)) {
            watcher.start();
            Recorder late = new Recorder();

            // when a listener is added
            watcher.addListener(late);

            // then it has the whole table, as added, before addListener returns
            assertThat(late.changes).hasSize(1);
            assertThat(late.changes.get(0).added()).extracting(MountInfoEntry::mountId).containsExactly(22, 901);
        }
    }

    @Test
    void aListenerThatThrowsIsCountedAndTheOthersAreStillToldAndWoken() throws Exception {
        // given a listener that always throws, added before one that records
        Path table = dir.resolve("mountinfo");
        Files.writeString(table, ROOT);
        Recorder listener = new Recorder();
        try (HostMountTable watcher = new HostMountTable(table, System::nanoTime)) {
            watcher.addListener(change -> {
                throw new IllegalStateException("broken listener");
            });
            watcher.addListener(listener);

            // when the watcher starts and the table changes
            watcher.start();
            Files.writeString(table, ROOT + PROC);

            // then the recorder is told both times, and the failures are counted
            awaitChanges(listener, 2);
            assertThat(watcher.errors()).isGreaterThanOrEqualTo(2);
            assertThat(listener.wakes).isPositive();
        }
    }

    @Test
    void anUnreadableTableIsCountedAndNoListenerIsTold() throws Exception {
        // given a table that does not exist
        Recorder listener = new Recorder();
        try (HostMountTable watcher = new HostMountTable(dir.resolve("absent"), System::nanoTime)) {
            watcher.addListener(listener);

            // when the watcher starts
            watcher.start();

            // then the failed read is counted and nothing is delivered
            assertThat(watcher.errors()).isEqualTo(1);
            assertThat(watcher.signalled()).isFalse();
            assertThat(listener.changes).isEmpty();
        }
    }

    private static void awaitChanges(Recorder listener, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (listener.changes.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(listener.changes).hasSizeGreaterThanOrEqualTo(count);
    }

    @Test
    void theNoticedNamespaceIsHostInitsElseTheAgentsOwnWhereTheTablesAgreeElseKthreaddsWhereItsTableAgrees()
            throws Exception {
        // given a /proc whose pid 1 has a readable ns/mnt link
        Path proc = dir.resolve("proc");
        for (String pid : List.of("1", "2", "self")) {
            Files.createDirectories(proc.resolve(pid + "/ns"));
        }
        Files.createSymbolicLink(proc.resolve("1/ns/mnt"), Path.of("mnt:[4026531832]"));
        Files.createSymbolicLink(proc.resolve("2/ns/mnt"), Path.of("mnt:[4026531832]"));
        Files.createSymbolicLink(proc.resolve("self/ns/mnt"), Path.of("mnt:[4026532999]"));
        Files.writeString(proc.resolve("1/mountinfo"), ROOT + PROC + ROOTFS);
        Files.writeString(proc.resolve("2/mountinfo"), ROOT + PROC + ROOTFS);
        Files.writeString(proc.resolve("self/mountinfo"), ROOT + PROC);
        assertThat(HostMountTable.namespaceOf(proc, "1")).isEqualTo(proc.resolve("1/ns/mnt"));

        // when pid 1's link cannot be read (a host init that is not dumpable) and the agent is in a pod of its own
        Files.delete(proc.resolve("1/ns/mnt"));
        Files.writeString(proc.resolve("1/ns/mnt"), "");
        // then kthreadd's namespace is noticed: its table reads the same as pid 1's
        assertThat(HostMountTable.namespaceOf(proc, "1")).isEqualTo(proc.resolve("2/ns/mnt"));
        assertThat(HostMountTable.onThisHost(proc).noticedNamespace()).isEqualTo(proc.resolve("2/ns/mnt"));

        // when the agent shares pid 1's table (on the host), its own namespace, as before
        Files.writeString(proc.resolve("self/mountinfo"), ROOT + PROC + ROOTFS);
        assertThat(HostMountTable.namespaceOf(proc, "1")).isEqualTo(proc.resolve("self/ns/mnt"));

        // when neither agrees with pid 1's table, pid 1's link (which then cannot be opened: counted unavailable)
        Files.writeString(proc.resolve("self/mountinfo"), ROOT);
        Files.writeString(proc.resolve("2/mountinfo"), ROOT);
        assertThat(HostMountTable.namespaceOf(proc, "1")).isEqualTo(proc.resolve("1/ns/mnt"));
    }
    @Test
    void theTableFollowsTheHostProcessWhoseRootCanBeReachedInitElseKthreaddWhereItsTableReadsAsInits()
            throws Exception {
        // given a /proc whose pid 1 and kthreadd have roots that can be followed and the same mount table
        Path proc = dir.resolve("proc");
        for (String pid : List.of("1", "2", "self")) {
            Files.createDirectories(proc.resolve(pid + "/ns"));
            Files.createSymbolicLink(proc.resolve(pid + "/ns/mnt"), Path.of("mnt:[4026531832]"));
        }
        Files.createDirectories(proc.resolve("1/root"));
        Files.createDirectories(proc.resolve("2/root"));
        Files.writeString(proc.resolve("1/mountinfo"), ROOT + PROC + ROOTFS);
        Files.writeString(proc.resolve("2/mountinfo"), ROOT + PROC + ROOTFS);
        Files.writeString(proc.resolve("self/mountinfo"), ROOT + PROC);
        assertThat(HostMountTable.hostProcess(proc)).contains("1");
        assertThat(HostMountTable.onThisHost(proc).hostPid()).contains("1");

        // when pid 1's root cannot be followed (the chart's pod where the node's init is not dumpable)
        Files.delete(proc.resolve("1/root"));
        // then kthreadd's table and notices: the process the fanotify source marks the node's root through
        assertThat(HostMountTable.hostProcess(proc)).contains("2");
        HostMountTable table = HostMountTable.onThisHost(proc);
        assertThat(table.source()).isEqualTo(proc.resolve("2/mountinfo"));
        assertThat(table.noticedNamespace()).isEqualTo(proc.resolve("2/ns/mnt"));
        assertThat(table.hostPid()).contains("2");

        // when kthreadd's table is not pid 1's (kthreadd is not the node's: a node in a container), no host process
        Files.writeString(proc.resolve("2/mountinfo"), ROOT);
        assertThat(HostMountTable.hostProcess(proc)).isEmpty();
        assertThat(HostMountTable.onThisHost(proc).source()).isEqualTo(proc.resolve("1/mountinfo"));
        assertThat(HostMountTable.onThisHost(proc).hostPid()).contains("1");

        // when neither root can be followed nor pid 1's table read, the agent's own table
        Files.delete(proc.resolve("1/mountinfo"));
        assertThat(HostMountTable.onThisHost(proc).source()).isEqualTo(proc.resolve("self/mountinfo"));
        assertThat(HostMountTable.onThisHost(proc).hostPid()).isEmpty();
    }
}
