package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.host.HostMountTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fanotify source in the chart's pod where the node's init is not dumpable (hostPID; {@code /proc/1/root} and
 * {@code /proc/1/ns/mnt} cannot be followed, its {@code mountinfo} can be read): the source marks the node's root
 * through kthreadd and must listen to the agent's one watcher of the host's mount table, not start a second reader of
 * the node's mount table and mount notices. The pod's {@code /proc} is stood for by a directory: pid 1 with its mount
 * table (kthreadd's, the same namespace) and links that cannot be followed; kthreadd and {@code self} the real ones.
 */
@Tag(TestTiers.KERNEL)
class FanotifySharedMountTableKernelTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void inThePodWherePid1sLinksCannotBeFollowedTheSourceListensToTheAgentsOneHostMountTable() throws Exception {
        KernelTestSupport.assumeRootWithKernelTools();
        Path proc = podProc();
        try (HostMountTable shared = HostMountTable.onThisHost(proc)) {
            shared.start();
            long tableReaders = threadsNamed("drift-host-mount-table");
            long noticeReaders = threadsNamed("drift-mount-notify");
            FanotifySourceConfig config = new FanotifySourceConfig(true, Duration.ofMillis(50), 64 * 1024, false, proc,
                    null, Duration.ofMillis(5));
            FanotifyExecSource source = new FanotifyExecSource(config, Clock.systemUTC(), shared);
            source.start(event -> true);
            Path lower = Files.createDirectories(dir.resolve("lower"));
            Path upper = Files.createDirectories(dir.resolve("upper"));
            Path work = Files.createDirectories(dir.resolve("work"));
            Path merged = Files.createDirectories(dir.resolve("merged"));
            try {
                // then no second watcher of the node's table, nor a second reader of its mount notices
                assertThat(threadsNamed("drift-host-mount-table")).as("watchers of the host mount table")
                        .isEqualTo(tableReaders).isEqualTo(1);
                assertThat(threadsNamed("drift-mount-notify")).as("readers of the node's mount notices")
                        .isEqualTo(noticeReaders);

                // and the shared table's changes reach the source: a new overlay on the node is marked
                long marked = source.mountsMarked();
                HostCommands.run("mount", "-t", "overlay", "podnotice-shared-table", "-o", "lowerdir=" + lower
                        + ",upperdir=" + upper + ",workdir=" + work, merged.toString());
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (source.mountsMarked() == marked && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(source.mountsMarked()).as("marks of new mounts told by the shared table")
                        .isGreaterThan(marked);
            } finally {
                HostCommands.quietly("umount", merged.toString());
                source.close();
            }
        }
    }

    /** pid 1 not dumpable: its mountinfo readable, its root and ns/mnt links not followed; kthreadd and self real. */
    private Path podProc() throws Exception {
        Path proc = Files.createDirectories(dir.resolve("proc"));
        Path init = Files.createDirectories(proc.resolve("1/ns"));
        Files.writeString(init.resolve("mnt"), "");
        Files.createSymbolicLink(proc.resolve("1/mountinfo"), Path.of("/proc/2/mountinfo"));
        Files.createSymbolicLink(proc.resolve("2"), Path.of("/proc/2"));
        Files.createSymbolicLink(proc.resolve("self"), Path.of("/proc/self"));
        return proc;
    }

    private static long threadsNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).count();
    }
}
