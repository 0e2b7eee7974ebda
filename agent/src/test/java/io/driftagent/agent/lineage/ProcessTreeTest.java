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
        assertThat(tree.size()).isEqualTo(2);
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
        assertThat(tree.imageAt(key, 3).exe()).isEqualTo("/x3");
        assertThat(tree.imageAt(key, 2)).isSameAs(ProcessTree.UNKNOWN_THEN);
        long oneImage = ProcessTree.ENTRY_OVERHEAD_BYTES + 3 + 3;
        assertThat(tree.bytes()).isEqualTo(4 * oneImage);
    }

    @Test
    void beyondItsEntryBoundTheLeastRecentlyUsedProcessIsForgottenAndCounted() {
        ProcessTree tree = new ProcessTree(2, 1 << 20, registry);
        tree.record(LineageEvents.exec(1, 1L, "/a", List.of("a")));
        tree.record(LineageEvents.exec(2, 2L, "/b", List.of("b")));
        tree.image(new ProcessKey(1, 1L)); // used: 2 is now the least recently used
        tree.record(LineageEvents.exec(3, 3L, "/c", List.of("c")));

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
        }
        assertThat(tree.bytes()).isLessThanOrEqualTo(bound);
        assertThat(tree.size()).isBetween(1, 3);
        assertThat(tree.image(new ProcessKey(10, 10L))).isNotNull();
        assertThat(registry.counter("drift.lineage.evictions").count()).isGreaterThanOrEqualTo(7.0);
    }

    @Test
    void anEventWithoutKernelLineageFactsIsNotRecorded() {
        ProcessTree tree = new ProcessTree(16, 1 << 20, registry);
        ExecEvent fanotify = LineageEvents.withoutKernelFacts(10, 1_000L, 9);
        tree.record(fanotify);
        assertThat(tree.size()).isZero();
    }
}
