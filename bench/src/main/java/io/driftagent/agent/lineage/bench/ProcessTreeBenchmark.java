package io.driftagent.agent.lineage.bench;

import io.driftagent.agent.lineage.ProcessTree;
import io.driftagent.agent.source.ExecEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the process tree adds to every exec the eBPF reader decodes: one {@link ProcessTree#record} of a new process
 * into a tree at its entry bound (an exec storm: every exec a new process, so every record also evicts the least
 * recently used one), whose parent and three further ancestors (a container's init, a shell, a shell's subshell) the
 * tree already knows or never saw exec. Run: {@code java -jar bench/target/drift-bench.jar ProcessTreeBenchmark} (docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ProcessTreeBenchmark {
    private static final int EVENTS = 1 << 16;

    private final ExecEvent[] events = new ExecEvent[EVENTS];
    private ProcessTree tree;
    private int next;

    @Setup
    public void aFullTree() {
        tree = new ProcessTree(ProcessTree.DEFAULT_MAX_ENTRIES, ProcessTree.DEFAULT_MAX_BYTES,
                new SimpleMeterRegistry());
        ExecEvent.Lineage lineage = new ExecEvent.Lineage(true, 1L, List.of(new ExecEvent.ProcessKey(1, 1L),
                new ExecEvent.ProcessKey(2, 2L), new ExecEvent.ProcessKey(3, 3L), new ExecEvent.ProcessKey(4, 4L)),
                new ExecEvent.ProcessKey(4, 4L), 1, false, "/", false);
        String exe = "/tmp/drift-storm-fs-1234567890/root/drift-storm-noop";
        for (int i = 0; i < EVENTS; i++) {
            events[i] = new ExecEvent(1000 + i, 1000 + i, 1, 0, 0, 1_000_000L * i, "drift-storm-noo", exe,
                    new ExecEvent.FileId(1, 2), ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE,
                    ExecEvent.SourceKind.EBPF, 0, new ExecEvent.KernelFacts(exe, false, false, false,
                    List.of("drift-storm-noop"), false, 1, 0, 0, -1, -1, "storm", lineage));
        }
        for (ExecEvent event : events) {
            tree.record(event); // at its bound from here on
        }
    }

    @Benchmark
    public int recordANewProcess() {
        ExecEvent event = events[next];
        next = (next + 1) & (EVENTS - 1);
        tree.record(event);
        return next;
    }
}
