package io.driftagent.agent.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessTreeTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void aLaterExecReplacesTheProcesssImageAndAnotherStartTimeIsAnotherProcess() {
        // given
        ProcessTree tree = new ProcessTree(16, 1 << 20, registry);
        // when pid 10 exec'd sh, then the drop; pid 10 reused later by another process that ran cat
        tree.record(LineageEvents.exec(10, 1_000L, "/bin/busybox", List.of("sh", "-c", "x")));
        tree.record(LineageEvents.exec(10, 1_000L, "/tmp/drop", List.of("/tmp/drop")));
        tree.record(LineageEvents.exec(10, 9_000L, "/bin/cat", List.of("cat")));
        // then
        assertThat(tree.image(new ProcessKey(10, 1_000L))).isEqualTo(new ProcessTree.Image("/tmp/drop",
                List.of("/tmp/drop")));
        assertThat(tree.image(new ProcessKey(10, 9_000L)).exe()).isEqualTo("/bin/cat");
        assertThat(tree.image(new ProcessKey(10, 5_000L))).isNull();
        assertThat(tree.size() + tree.recentSize()).isEqualTo(2);
    }

    @Test
    void aProcessIsNamedByTheImageItHadAtATimeNotByOneItExecdLater() {
        // given a shell (exec'd at t=10) whose last command replaced it at t=30
        ProcessTree tree = new ProcessTree(16, 1 << 20, registry);
        ExecEvent.Lineage none = LineageEvents.lineage(0, List.of(), null, 0, "/");
        tree.record(LineageEvents.execAt(10, 7, 100L, 1, "/bin/busybox", List.of("/bin/sh", "-c", "x; sleep 9"), none));
        tree.record(LineageEvents.execAt(30, 7, 100L, 1, "/bin/busybox", List.of("sleep", "9"), none));
        ProcessKey shell = new ProcessKey(7, 100L);

        // then its child's exec at t=20 sees the shell, a later one the sleep, an earlier one nothing known
        assertThat(tree.imageAt(shell, 20).argv()).containsExactly("/bin/sh", "-c", "x; sleep 9");
        assertThat(tree.imageAt(shell, 40).argv()).containsExactly("sleep", "9");
        assertThat(tree.imageAt(shell, 5)).isSameAs(ProcessTree.UNKNOWN_THEN);
        assertThat(tree.image(shell).argv()).containsExactly("sleep", "9");
    }

    @Test
    void aProcessKeepsItsLastFourImages() {
        ProcessTree tree = new ProcessTree(16, 1 << 20, registry);
        ExecEvent.Lineage none = LineageEvents.lineage(0, List.of(), null, 0, "/");
        for (int t = 1; t <= 6; t++) {
            tree.record(LineageEvents.execAt(t, 7, 100L, 1, "/x" + t, List.of("x" + t), none));
        }
        ProcessKey key = new ProcessKey(7, 100L);
        tree.record(childOf(key, 8, 800L));
        assertThat(tree.imageAt(key, 3).exe()).isEqualTo("/x3");
        assertThat(tree.imageAt(key, 2)).isSameAs(ProcessTree.UNKNOWN_THEN);
        long oneImage = ProcessTree.ENTRY_OVERHEAD_BYTES + 3 + 3;
        assertThat(tree.bytes()).isEqualTo(4 * oneImage);
    }

    @Test
    void beyondItsEntryBoundTheLeastRecentlyUsedProcessIsForgottenAndCounted() {
        ProcessTree tree = new ProcessTree(2, 1 << 20, registry);
        admitted(tree, 1, 1L, "/a");
        admitted(tree, 2, 2L, "/b");
        tree.image(new ProcessKey(1, 1L)); // used: 2 is now the least recently used
        admitted(tree, 3, 3L, "/c");

        assertThat(tree.image(new ProcessKey(2, 2L))).isNull();
        assertThat(tree.image(new ProcessKey(1, 1L))).isNotNull();
        assertThat(tree.image(new ProcessKey(3, 3L))).isNotNull();
        assertThat(registry.counter("drift.lineage.evictions").count()).isEqualTo(1.0);
        assertThat(tree.size()).isEqualTo(2);
    }

    @Test
    void beyondItsByteBoundOldProcessesAreForgottenToo() {
        long bound = 3L * (ProcessTree.ENTRY_OVERHEAD_BYTES + 200);
        ProcessTree tree = new ProcessTree(1000, bound, registry);
        for (int pid = 1; pid <= 10; pid++) {
            tree.record(LineageEvents.exec(pid, pid, "/x", List.of("a".repeat(190))));
            tree.record(childOf(new ProcessKey(pid, pid), 1000 + pid, 1000L + pid));
        }
        assertThat(tree.bytes()).isLessThanOrEqualTo(bound);
        assertThat(tree.size()).isBetween(1, 3);
        assertThat(tree.image(new ProcessKey(10, 10L))).isNotNull();
        assertThat(registry.counter("drift.lineage.evictions").count()).isGreaterThanOrEqualTo(7.0);
    }

    @Test
    void aProcessNoLaterExecNamesAgesOutOfTheRecentExecsUncounted() {
        // given a window of 8 recent execs
        ProcessTree tree = new ProcessTree(16, 1 << 20, 8, registry);
        tree.record(LineageEvents.exec(5, 50L, "/usr/bin/noop", List.of("noop")));
        // when 8 other processes exec, none of them its child
        for (int pid = 100; pid < 108; pid++) {
            tree.record(LineageEvents.exec(pid, pid, "/usr/bin/noop", List.of("noop")));
        }
        // then it is forgotten, without counting an eviction; the tree admitted nothing
        assertThat(tree.image(new ProcessKey(5, 50L))).isNull();
        assertThat(tree.recentSize()).isEqualTo(8);
        assertThat(tree.size()).isZero();
        assertThat(registry.counter("drift.lineage.evictions").count()).isZero();
    }

    @Test
    void aProcessALaterExecNamesAsAncestorOrParentIsKeptPastTheRecentWindow() {
        // given a shell and a wget it ran, then a drop the shell ran (the drop names the shell as its parent,
        // wget as nothing); the wget's child (a helper it spawned) names wget as parent and the shell as ancestor
        ProcessTree tree = new ProcessTree(16, 1 << 20, 8, registry);
        ProcessKey shell = new ProcessKey(10, 100L);
        ProcessKey wget = new ProcessKey(11, 110L);
        tree.record(LineageEvents.execAt(1, 10, 100L, 1, "/bin/sh", List.of("sh"),
                LineageEvents.lineage(0, List.of(), null, 0, "/")));
        tree.record(LineageEvents.execAt(2, 11, 110L, 10, "/usr/bin/wget", List.of("wget", "x"),
                LineageEvents.lineage(100L, List.of(shell), null, 0, "/")));
        tree.record(LineageEvents.execAt(3, 12, 120L, 11, "/usr/bin/helper", List.of("helper"),
                LineageEvents.lineage(110L, List.of(wget, shell), null, 0, "/")));
        // when a storm of 1,000 unrelated execs follows
        for (int pid = 1000; pid < 2000; pid++) {
            tree.record(LineageEvents.exec(pid, pid, "/usr/bin/noop", List.of("noop")));
        }
        // then the shell and the wget are still named, the helper (nobody's ancestor) is gone
        assertThat(tree.imageAt(shell, 5).exe()).isEqualTo("/bin/sh");
        assertThat(tree.imageAt(wget, 5).argv()).containsExactly("wget", "x");
        assertThat(tree.image(new ProcessKey(12, 120L))).isNull();
        assertThat(tree.size()).isEqualTo(2);
        assertThat(tree.recentSize()).isEqualTo(8);
    }

    @Test
    void anAdmittedProcesssLaterExecsAreChainedInTheTree() {
        ProcessTree tree = new ProcessTree(16, 1 << 20, 4, registry);
        ProcessKey shell = new ProcessKey(10, 100L);
        ExecEvent.Lineage none = LineageEvents.lineage(0, List.of(), null, 0, "/");
        tree.record(LineageEvents.execAt(1, 10, 100L, 1, "/bin/sh", List.of("sh"), none));
        tree.record(childOf(shell, 20, 200L));
        // the shell exec's in its own place, then the window moves on
        tree.record(LineageEvents.execAt(9, 10, 100L, 1, "/bin/sleep", List.of("sleep", "9"), none));
        for (int pid = 1000; pid < 1010; pid++) {
            tree.record(LineageEvents.exec(pid, pid, "/usr/bin/noop", List.of("noop")));
        }
        assertThat(tree.imageAt(shell, 5).exe()).isEqualTo("/bin/sh");
        assertThat(tree.imageAt(shell, 10).exe()).isEqualTo("/bin/sleep");
    }

    /** Records the process's exec, then a child's that names it as parent: admitted. */
    private static void admitted(ProcessTree tree, int pid, long start, String exe) {
        tree.record(LineageEvents.exec(pid, start, exe, List.of(exe)));
        tree.record(childOf(new ProcessKey(pid, start), 10_000 + pid, 10_000L + pid));
    }

    private static ExecEvent childOf(ProcessKey parent, int pid, long start) {
        return LineageEvents.exec(pid, start, parent.tgid(), "/bin/child", List.of("child"),
                LineageEvents.lineage(parent.startTimeNs(), List.of(parent), null, 0, "/"));
    }

    @Test
    void anEventWithoutKernelLineageFactsIsNotRecorded() {
        ProcessTree tree = new ProcessTree(16, 1 << 20, registry);
        ExecEvent fanotify = LineageEvents.withoutKernelFacts(10, 1_000L, 9);
        tree.record(fanotify);
        assertThat(tree.size() + tree.recentSize()).isZero();
    }
}
