package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding running containers and their longest-lived process from a /proc tree. */
class ProcLiveContainersTest {

    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);

    @TempDir
    Path proc;

    private void process(int pid, String cgroupPath, long startTicks) throws Exception {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("cgroup"), "0::" + cgroupPath + "\n");
        // comm with a space and a ')' as a process may choose
        Files.writeString(dir.resolve("stat"), pid + " (evil) x) S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                + startTicks + " 1000 100 0 0 0 0\n");
    }

    @Test
    void eachContainersOldestProcessIsItsAnchorAndHostProcessesAreNoContainer() throws Exception {
        // given container A's init (started first) and a later exec in it, container B, and a host process
        process(700, "/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/" + A, 5000);
        process(90, "/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/" + A, 9000);
        process(800, "/system.slice/containerd.service/kubepods-pod1.slice:cri-containerd:" + B, 6000);
        process(1, "/init.scope", 1);
        Files.createDirectories(proc.resolve("self"));

        ProcLiveContainers live = new ProcLiveContainers(proc, true);

        assertThat(live.scan()).containsExactlyInAnyOrder(
                new LiveContainers.LiveContainer(new ContainerId(A), 700),
                new LiveContainers.LiveContainer(new ContainerId(B), 800));
        assertThat(live.anchorOf(new ContainerId(A))).isEqualTo(OptionalInt.of(700));
        assertThat(live.anchorOf(new ContainerId("c".repeat(64)))).isEmpty();
    }

    @Test
    void aProcessThatIsGoneBetweenListingAndReadingIsSkipped() throws Exception {
        process(700, "/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/" + A, 5000);
        Files.createDirectories(proc.resolve("701")); // no cgroup, no stat: exited

        assertThat(new ProcLiveContainers(proc, true).scan())
                .containsExactly(new LiveContainers.LiveContainer(new ContainerId(A), 700));
    }

    @Test
    void theRealProcOfThisHostScansWithoutError() throws Exception {
        // whatever runs here: every anchor is a live process of its container
        ProcLiveContainers live = ProcLiveContainers.onThisHost(Path.of("/proc"));
        for (LiveContainers.LiveContainer c : live.scan()) {
            assertThat(c.anchorPid()).isPositive();
        }
    }
}
