package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.source.ExecEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The eBPF reader's per-record cost with warm caches: one drain of a batch of 32 records (what a 2 ms gather holds in
 * a 16,000 execs/s storm) from memory laid out like the mapped ring, each decoded and offered to a sink. Reported per
 * record. In a real storm the records arrive cold (written by another CPU), so the storm harness's number is higher.
 * Run: {@code java -jar bench/target/drift-bench.jar ExecRingReaderBenchmark} (docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@OperationsPerInvocation(ExecRingReaderBenchmark.BATCH)
public class ExecRingReaderBenchmark {
    static final int BATCH = 32;
    private static final int PAGE = 4096;
    private static final int DATA = 1 << 16;

    private final Runtime runtime = Runtime.getSystemRuntime();
    private final Pointer consumerPage = Memory.allocateDirect(runtime, PAGE, true);
    private final Pointer producerPages = Memory.allocateDirect(runtime, PAGE + 2 * DATA, true);
    private Blackhole blackhole;
    private final ExecRingReader reader = new ExecRingReader(
            new MappedRingBuffer(null, runtime, consumerPage, producerPages, PAGE, DATA), this::offer);

    private boolean offer(ExecEvent event) {
        blackhole.consume(event);
        return true;
    }

    @Setup
    public void fillTheRing() {
        // as the program writes a storm exec: the name as exec'd, the kernel's path of the file (the same here) and argv
        byte[] name = "/tmp/drift-storm-fs-1234567890/root/drift-storm-noop".getBytes(StandardCharsets.UTF_8);
        ByteBuffer record = ExecRecords.record(ExecRecordLayout.FLAG_OVERLAY, "drift-storm-noo", name, name,
                "drift-storm-noop\0".getBytes(StandardCharsets.UTF_8));
        record.putInt(ExecRecordLayout.REC_OFF_ARGC, 1);
        byte[] bytes = new byte[record.capacity()];
        record.get(0, bytes);
        long position = 0;
        for (int i = 0; i < BATCH; i++) {
            producerPages.putInt(PAGE + position, bytes.length);
            producerPages.put(PAGE + position + 8, bytes, 0, bytes.length);
            position += (bytes.length + 8 + 7) & ~7L;
        }
        producerPages.putLong(0, position);
    }

    @Benchmark
    public int drainABatch(Blackhole bh) {
        blackhole = bh;
        consumerPage.putLong(0, 0); // the same 32 records again
        return reader.consume();
    }
}
