package io.driftagent.agent.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The fanotify source's lineage from /proc, for processes in their own pid namespace (as a container's): the walk stops
 * at the namespace's boundary; the init's descendants are in the {@code init} session, a process entered from outside
 * ({@code nsenter}, as runc exec does) leads an {@code exec} session. Needs root (unshare, nsenter).
 */
@Tag(TestTiers.KERNEL)
class LineageReaderNamespaceTest {

    private final ProcProcesses proc = new ProcProcesses(Path.of("/proc"), 4096, 64);
    private final LineageReader reader = new LineageReader(
            new ProcessTree(64, 1 << 20, new SimpleMeterRegistry()), proc);
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopTheProcesses() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void aProcessUnderTheNamespacesInitIsInItsInitSessionAndOneEnteredFromOutsideLeadsAnExecSession()
            throws Exception {
        assumeTrue(HostCommands.isRoot(), "unshare -p and nsenter need root");
        // given a pid namespace whose init is sh, running sleep
        Process unshare = start("unshare", "-p", "-f", "sh", "-c", "sleep 30; true");
        int init = awaitChildNamed((int) unshare.pid(), "sh");
        int sleep = awaitChildNamed(init, "sleep");
        // and a shell entered into it from outside, running sleep
        Process nsenter = start("nsenter", "-t", Integer.toString(init), "-p", "sh", "-c", "sleep 31; true");
        int entered = awaitChildNamed((int) nsenter.pid(), "sh");
        int enteredSleep = awaitChildNamed(entered, "sleep");

        // when
        ProcessLineage underInit = reader.read(LineageEvents.withoutKernelFacts(sleep, proc.startTimeNs(sleep), init));
        ProcessLineage underExec = reader.read(LineageEvents.withoutKernelFacts(enteredSleep,
                proc.startTimeNs(enteredSleep), entered));

        // then the walk stops at the namespace's boundary (unshare and nsenter are outside)
        assertThat(underInit.ancestors()).extracting(Alert.Ancestor::pid).containsExactly(init);
        assertThat(underInit.ancestors().get(0).cmdline()).containsExactly("sh", "-c", "sleep 30; true");
        assertThat(underInit.session("c").kind()).isEqualTo(Alert.SessionKind.init);
        assertThat(underExec.ancestors()).extracting(Alert.Ancestor::pid).containsExactly(entered);
        assertThat(underExec.session("c").kind()).isEqualTo(Alert.SessionKind.exec);
        assertThat(underExec.session("c").id()).isNotEqualTo(underInit.session("c").id());
    }

    private Process start(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    /** The first child of {@code pid} whose comm is {@code comm} (a fork becomes it once it exec'd). */
    private static int awaitChildNamed(int pid, String comm) throws Exception {
        Path children = Path.of("/proc", Integer.toString(pid), "task", Integer.toString(pid), "children");
        for (int i = 0; i < 300; i++) {
            String text = Files.exists(children) ? Files.readString(children).trim() : "";
            for (String child : text.isEmpty() ? new String[0] : text.split("\\s+")) {
                Path c = Path.of("/proc", child, "comm");
                if (Files.exists(c) && Files.readString(c).trim().equals(comm)) {
                    return Integer.parseInt(child);
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no child " + comm + " under " + pid);
    }
}
