package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.FLAG_OVERLAY;
import static io.driftagent.agent.source.ebpf.ExecRecordLayout.FLAG_UPPER;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;

/** The reader over a ring laid out in plain memory as the kernel maps one (no kernel needed). */
class ExecRingReaderTest {

    private static final int PAGE = 4096;
    private static final int DATA = 64 * 1024;

    private final Runtime runtime = Runtime.getSystemRuntime();
    private final Pointer consumerPage = Memory.allocateDirect(runtime, PAGE, true);
    private final Pointer producerPages = Memory.allocateDirect(runtime, PAGE + 2 * DATA, true);
    private long producer;

    private void write(ByteBuffer record) {
        byte[] bytes = new byte[record.capacity()];
        record.get(0, bytes);
        long at = producer % DATA;
        Pointer data = producerPages.slice(PAGE);
        data.putInt(at, bytes.length);
        data.put(at + 8, bytes, 0, bytes.length);
        producer += (bytes.length + 8 + 7) & ~7L;
        producerPages.putLong(0, producer);
    }

    @Test
    void everyRecordIsObservedInKernelOrderAndThoseThatMayBeDriftAreOfferedFirst() {
        // given image-layer execs (overlay, no upper inode) with a drop (upper layer) between them
        write(ExecRecords.record(FLAG_OVERLAY, "image-1", "/bin/image-1"));
        write(ExecRecords.record(FLAG_OVERLAY | FLAG_UPPER, "drop", "/tmp/drop"));
        write(ExecRecords.record(FLAG_OVERLAY, "image-2", "/bin/image-2"));
        List<String> observed = new ArrayList<>();
        List<String> offered = new ArrayList<>();
        ExecEventSink sink = new ExecEventSink() {
            @Override
            public boolean offer(ExecEvent event) {
                offered.add(event.comm());
                return true;
            }

            @Override
            public void observe(ExecEvent event) {
                observed.add(event.comm());
            }
        };
        MappedRingBuffer ring = new MappedRingBuffer(null, runtime, consumerPage, producerPages, PAGE, DATA);

        // when the reader drains the ring
        try (ExecRingReader reader = new ExecRingReader(ring, sink)) {
            int handed = reader.consume();

            // then the process tree and write tracking saw the kernel's order, the pipeline the drop first
            assertThat(handed).isEqualTo(3);
            assertThat(observed).containsExactly("image-1", "drop", "image-2");
            assertThat(offered).containsExactly("drop", "image-1", "image-2");
            assertThat(reader.promptRecords()).isEqualTo(1);
            assertThat(reader.delivered()).isEqualTo(3);
            assertThat(consumerPage.getLong(0)).isEqualTo(producer);
        }
    }
}
