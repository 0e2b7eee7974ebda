package io.driftagent.agent.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Over the real /proc and real processes started by the test. */
class LineageReaderTest {

    /** A pid above any pid_max: never a live process. */
    private static final int GONE = 9_999_999;

    private final ProcessTree tree = new ProcessTree(1024, 1 << 20, new SimpleMeterRegistry());
    private final ProcProcesses proc = new ProcProcesses(Path.of("/proc"), 4096, 64);
    private final LineageReader reader = new LineageReader(tree, proc);
    private Process started;

    @AfterEach
    void stopTheProcess() {
        if (started != null) {
            started.descendants().forEach(ProcessHandle::destroyForcibly);
            started.destroyForcibly();
        }
    }

    @Test
    void ancestorsThatExitedAreNamedByTheImageTheTreeSawThemExec() {
        // given the session shell and a shell under it exec'd (the tree saw both), and both are gone
        ProcessKey session = new ProcessKey(GONE, 1_000L);
        ProcessKey inner = new ProcessKey(GONE - 1, 2_000L);
        reader.observe(LineageEvents.exec(GONE, 1_000L, "/bin/busybox", List.of("/bin/sh", "-c", "outer")));
        reader.observe(LineageEvents.exec(GONE - 1, 2_000L, "/bin/busybox", List.of("sh", "-c", "inner")));
        ExecEvent drop = LineageEvents.exec(GONE - 2, 3_000L, GONE - 1, "/tmp/drop", List.of("/tmp/drop"),
                LineageEvents.lineage(2_000L, List.of(inner, session), session, 5, "/tmp"));

        // when
        ProcessLineage lineage = reader.read(drop);

        // then
        assertThat(lineage.ancestors()).containsExactly(
                new Alert.Ancestor(GONE - 1, "/bin/busybox", List.of("sh", "-c", "inner")),
                new Alert.Ancestor(GONE, "/bin/busybox", List.of("/bin/sh", "-c", "outer")));
        assertThat(lineage.parentExe()).isEqualTo("/bin/busybox");
        assertThat(lineage.cwd()).isEqualTo("/tmp");
        assertThat(lineage.euid()).isZero();
        assertThat(lineage.loginUid()).isEqualTo(1000);
        assertThat(lineage.auditSessionId()).isEqualTo(3L);
        assertThat(lineage.session("c1")).isEqualTo(new Alert.Session(Alert.SessionKind.exec,
                ProcessLineage.sessionId("c1", session)));
    }

    @Test
    void anAncestorTheTreeNeverSawIsReadFromProcOnlyWhileItIsTheSameProcess() throws Exception {
        // given a live process the tree never saw exec
        started = new ProcessBuilder("sleep", "30").start();
        int pid = (int) started.pid();
        long start = awaitStart(pid);
        String exe = Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "exe")).toString();

        // when the kernel names it with its start time, or with another (its pid reused since)
        ProcessLineage same = reader.read(child(new ProcessKey(pid, start)));
        ProcessLineage reused = reader.read(child(new ProcessKey(pid, start + 5_000_000_000L)));
        ProcessLineage gone = reader.read(child(new ProcessKey(GONE, 1L)));

        // then
        assertThat(same.ancestors()).containsExactly(new Alert.Ancestor(pid, exe, List.of("sleep", "30")));
        assertThat(reused.ancestors()).containsExactly(new Alert.Ancestor(pid, null, List.of()));
        assertThat(gone.ancestors()).containsExactly(new Alert.Ancestor(GONE, null, List.of()));
    }

    @Test
    void theLeaderAtPidOneIsTheInitSessionAndOneIdNamesOneLeaderOfOneContainer() {
        ProcessKey init = new ProcessKey(GONE, 1L);
        ProcessKey exec = new ProcessKey(GONE - 1, 2L);
        ExecEvent underInit = LineageEvents.exec(GONE - 2, 3L, GONE, "/tmp/a", List.of("a"),
                LineageEvents.lineage(1L, List.of(init), init, 1, "/"));
        ExecEvent underExec = LineageEvents.exec(GONE - 3, 4L, GONE - 1, "/tmp/b", List.of("b"),
                LineageEvents.lineage(2L, List.of(exec), exec, 9, "/"));

        Alert.Session a = reader.read(underInit).session("c1");
        Alert.Session b = reader.read(underExec).session("c1");

        assertThat(a.kind()).isEqualTo(Alert.SessionKind.init);
        assertThat(b.kind()).isEqualTo(Alert.SessionKind.exec);
        assertThat(a.id()).isNotEqualTo(b.id());
        assertThat(reader.read(underExec).session("c1")).isEqualTo(b);
        assertThat(reader.read(underExec).session("c2").id()).isNotEqualTo(b.id());
    }

    @Test
    void withoutKernelFactsAProcessThatExitedHasNoAncestorsNoSessionNoCwd() throws Exception {
        // given a process (fanotify: its start time read while it lived) that exited
        started = new ProcessBuilder("sleep", "0.2").start();
        int pid = (int) started.pid();
        long start = awaitStart(pid);
        assertThat(started.waitFor(10, TimeUnit.SECONDS)).isTrue();

        // when
        ProcessLineage lineage = reader.read(LineageEvents.withoutKernelFacts(pid, start, (int) ProcessHandle.current().pid()));

        // then
        assertThat(lineage).isEqualTo(ProcessLineage.UNKNOWN);
        assertThat(lineage.ancestors()).isEmpty();
        assertThat(lineage.session("c1")).isNull();
        assertThat(lineage.cwd()).isNull();
        assertThat(lineage.parentExe()).isNull();
    }

    @Test
    void withoutKernelFactsALiveProcessIsWalkedFromProcUpItsParents() throws Exception {
        // given this JVM -> sh -c 'sleep 30; true' -> sleep 30, all in the host's pid namespace
        started = new ProcessBuilder("sh", "-c", "sleep 30; true").start();
        int sh = (int) started.pid();
        int sleep = awaitChild(sh);
        long start = awaitStart(sleep);

        // when
        ProcessLineage lineage = reader.read(LineageEvents.withoutKernelFacts(sleep, start, sh));

        // then
        assertThat(lineage.ancestors()).hasSizeGreaterThanOrEqualTo(2);
        assertThat(lineage.ancestors().get(0).pid()).isEqualTo(sh);
        assertThat(lineage.ancestors().get(0).cmdline()).containsExactly("sh", "-c", "sleep 30; true");
        assertThat(lineage.ancestors().get(1).pid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(lineage.session("c1")).as("the host's pid namespace has no session").isNull();
        assertThat(lineage.cwd()).isEqualTo(Path.of("").toAbsolutePath().toString());
        assertThat(lineage.parentExe()).isNotNull();
    }

    private static ExecEvent child(ProcessKey parent) {
        return LineageEvents.exec(GONE - 5, 9L, parent.tgid(), "/tmp/x", List.of("x"),
                LineageEvents.lineage(parent.startTimeNs(), List.of(parent), null, 0, "/"));
    }

    private long awaitStart(int pid) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            long start = proc.startTimeNs(pid);
            if (start >= 0) {
                return start;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no /proc/" + pid + "/stat");
    }

    /** The first child of {@code pid} that exec'd (its comm is no longer the parent's). */
    static int awaitChild(int pid) throws Exception {
        Path children = Path.of("/proc", Integer.toString(pid), "task", Integer.toString(pid), "children");
        for (int i = 0; i < 200; i++) {
            String text = Files.exists(children) ? Files.readString(children).trim() : "";
            if (!text.isEmpty()) {
                int child = Integer.parseInt(text.split("\\s+")[0]);
                Path comm = Path.of("/proc", Integer.toString(child), "comm");
                if (Files.exists(comm) && Files.readString(comm).trim().equals("sleep")) {
                    return child;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no sleep child under " + pid);
    }
}
