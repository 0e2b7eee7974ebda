package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.junit.jupiter.api.Test;

/** The ring protocol on plain memory laid out as the kernel maps a ring buffer (no kernel needed). */
class MappedRingBufferTest {

    private static final int PAGE = 4096;
    private static final int DATA = 4096;
    private static final int BUSY = 0x8000_0000;
    private static final int DISCARD = 0x4000_0000;

    private final Runtime runtime = Runtime.getSystemRuntime();
    private final Pointer consumerPage = Memory.allocateDirect(runtime, PAGE, true);
    private final Pointer producerPages = Memory.allocateDirect(runtime, PAGE + 2 * DATA, true);
    private final MappedRingBuffer ring = new MappedRingBuffer(null, runtime, consumerPage, producerPages, PAGE, DATA);
    private final List<String> seen = new ArrayList<>();
    private long producer;

    /** Writes a record (header + payload, 8-byte aligned) at the producer position; returns its header offset. */
    private long write(String payload, int headerBits) {
        long at = producer % DATA;
        Pointer data = producerPages.slice(PAGE);
        byte[] bytes = payload.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        data.putInt(at, bytes.length | headerBits);
        data.put(at + 8, bytes, 0, bytes.length);
        producer += (bytes.length + 8 + 7) & ~7L;
        producerPages.putLong(0, producer);
        return at;
    }

    private int drain() {
        return ring.drain((data, offset, length) -> {
            byte[] b = new byte[length];
            data.get(offset, b, 0, length);
            seen.add(new String(b, java.nio.charset.StandardCharsets.US_ASCII));
        });
    }

    @Test
    void handsOverCompleteRecordsInOrderAndPublishesTheConsumerPosition() {
        write("first", 0);
        write("second-record", 0);

        assertThat(drain()).isEqualTo(2);

        assertThat(seen).containsExactly("first", "second-record");
        assertThat(consumerPage.getLong(0)).isEqualTo(producer);
        assertThat(ring.pendingBytes()).isZero();
    }

    @Test
    void skipsDiscardedRecordsButConsumesThem() {
        write("kept", 0);
        write("dropped", DISCARD);
        write("also-kept", 0);

        assertThat(drain()).isEqualTo(2);

        assertThat(seen).containsExactly("kept", "also-kept");
        assertThat(consumerPage.getLong(0)).isEqualTo(producer);
    }

    @Test
    void stopsAtARecordStillBeingWrittenAndResumesThereOnceCommitted() {
        write("done", 0);
        long busyAt = write("in-flight", BUSY);
        write("after", 0);

        assertThat(drain()).isEqualTo(1);
        assertThat(seen).containsExactly("done");
        assertThat(consumerPage.getLong(0)).isEqualTo(16);

        // the producer commits: the BUSY bit goes
        Pointer data = producerPages.slice(PAGE);
        data.putInt(busyAt, data.getInt(busyAt) & ~BUSY);

        assertThat(drain()).isEqualTo(2);
        assertThat(seen).containsExactly("done", "in-flight", "after");
        assertThat(consumerPage.getLong(0)).isEqualTo(producer);
    }

    @Test
    void aRecordStillBeingWrittenEndsTheBatchAndDiscardedOnesAreSkipped() {
        write("image-1", 0);
        write("DRIFT-1", 0);
        write("skipped", DISCARD);
        long busyAt = write("DRIFT-3", BUSY);
        write("after-busy", 0);

        int handed = drain();

        // the batch is what was complete: the record still being written waits, and so does what follows it
        assertThat(handed).isEqualTo(2);
        assertThat(seen).containsExactly("image-1", "DRIFT-1");
        assertThat(consumerPage.getLong(0)).isEqualTo(busyAt);
    }

    @Test
    void positionsKeepGrowingPastTheRingSizeAndOffsetsWrap() {
        for (int i = 0; i < 1000; i++) {
            write("record-" + i, 0);
            assertThat(drain()).isEqualTo(1);
        }

        assertThat(seen).hasSize(1000).endsWith("record-999");
        assertThat(consumerPage.getLong(0)).isEqualTo(producer).isGreaterThan(DATA);
    }
}
