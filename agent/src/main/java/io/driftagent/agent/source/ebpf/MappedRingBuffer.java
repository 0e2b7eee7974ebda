package io.driftagent.agent.source.ebpf;

import com.kenai.jffi.MemoryIO;
import io.driftagent.agent.host.Errno;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * A BPF ring buffer read in place: its consumer page mapped read-write, its producer page and data (mapped twice
 * back to back by the kernel, so a record that wraps is contiguous) read-only. Records are handed to the handler
 * straight from the shared memory: no per-record call from native code into Java, which is most of what a
 * callback-based consumer costs per exec. Single consumer thread only.
 *
 * <p>The protocol is the kernel's (kernel/bpf/ringbuf.c): each record starts with an 8-byte header whose first word
 * is its length with a BUSY bit (still being written) and a DISCARD bit; records are 8-byte aligned; the consumer
 * position is published after each record, so the producer can reuse the space and knows when the reader has
 * caught up (that is when it wakes the reader for the next record).
 */
final class MappedRingBuffer implements AutoCloseable {

    /**
     * Receives one record: {@code length} bytes at {@code offset} of {@code data} (little-endian, absolute indexes
     * only), valid only during the call.
     */
    interface RecordHandler {
        void onRecord(ByteBuffer data, int offset, int length);
    }

    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_SHARED = 0x1;
    private static final long MAP_FAILED = -1L;
    private static final int BUSY_BIT = 0x8000_0000;
    private static final int DISCARD_BIT = 0x4000_0000;
    private static final int HEADER_BYTES = 8;

    private final LibcMemory libc;
    private final Runtime runtime;
    private final int mapFd;
    private final long pageSize;
    private final long dataBytes;
    private final long mask;
    private Pointer consumerPage;
    private Pointer producerPages;
    private Pointer consumerPosition;
    private Pointer producerPosition;
    /** The data pages, both views (2 x dataBytes): records are read in place through intrinsic buffer loads. */
    private ByteBuffer data;

    /** @param dataBytes the ring's size (its max_entries): a power of two, a multiple of the page size */
    MappedRingBuffer(LibcMemory libc, Runtime runtime, int mapFd, long dataBytes) throws java.io.IOException {
        if (dataBytes <= 0 || Long.bitCount(dataBytes) != 1) {
            throw new IllegalArgumentException("ring size must be a power of two: " + dataBytes);
        }
        this.libc = libc;
        this.runtime = runtime;
        this.mapFd = mapFd;
        this.pageSize = libc.getpagesize();
        this.dataBytes = dataBytes;
        this.mask = dataBytes - 1;
        Pointer consumer = libc.mmap(null, pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0);
        if (failed(consumer)) {
            int err = runtime.getLastError();
            throw new java.io.IOException("mmap of the ring buffer's consumer page failed: " + Errno.describe(-err));
        }
        Pointer producer = libc.mmap(null, pageSize + 2 * dataBytes, PROT_READ, MAP_SHARED, mapFd, pageSize);
        if (failed(producer)) {
            int err = runtime.getLastError();
            libc.munmap(consumer, pageSize);
            throw new java.io.IOException("mmap of the ring buffer's data failed: " + Errno.describe(-err));
        }
        consumerPage = consumer;
        producerPages = producer;
        consumerPosition = consumer;
        producerPosition = producer;
        data = view(producer.address() + pageSize, dataBytes);
    }

    /** Over memory laid out like a mapped ring (tests): positions at offset 0 of their pages, data after the producer page. */
    MappedRingBuffer(LibcMemory libc, Runtime runtime, Pointer consumerPage, Pointer producerPages, long pageSize,
                     long dataBytes) {
        this.libc = libc;
        this.runtime = runtime;
        this.mapFd = -1;
        this.pageSize = pageSize;
        this.dataBytes = dataBytes;
        this.mask = dataBytes - 1;
        this.consumerPosition = consumerPage;
        this.producerPosition = producerPages;
        this.data = view(producerPages.address() + pageSize, dataBytes);
    }

    /** A direct little-endian buffer over the mapped data, both of its views. */
    private static ByteBuffer view(long address, long dataBytes) {
        if (2 * dataBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ring too large to read in place: " + dataBytes);
        }
        return MemoryIO.getInstance().newDirectByteBuffer(address, (int) (2 * dataBytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Complete records handled before the consumer position is published (and their space freed). */
    private static final int MAX_BATCH = 512;

    /**
     * Hands every complete record to {@code handler}, oldest first, in batches of what is complete at once (up to
     * {@value #MAX_BATCH}); the consumer position is published after each batch. Returns how many records were
     * handed (discarded ones not counted).
     */
    int drain(RecordHandler handler) {
        long consumer = consumerPosition.getLong(0);
        int handed = 0;
        while (true) {
            long producer = producerPosition.getLong(0);
            VarHandle.acquireFence();
            long end = consumer;
            int records = 0;
            while (end < producer && records < MAX_BATCH) {
                int header = data.getInt((int) (end & mask));
                VarHandle.acquireFence();
                if ((header & BUSY_BIT) != 0) {
                    break;
                }
                end += ((header & ~(BUSY_BIT | DISCARD_BIT)) + HEADER_BYTES + 7) & ~7L;
                records++;
            }
            if (end == consumer) {
                return handed;
            }
            handed += pass(consumer, end, handler);
            consumer = end;
            VarHandle.releaseFence();
            consumerPosition.putLong(0, consumer);
        }
    }

    /** Hands the records of [from, to), skipping discarded ones. */
    private int pass(long from, long to, RecordHandler handler) {
        int handed = 0;
        for (long position = from; position < to; ) {
            int offset = (int) (position & mask);
            int header = data.getInt(offset);
            int length = header & ~(BUSY_BIT | DISCARD_BIT);
            position += (length + HEADER_BYTES + 7) & ~7L;
            if ((header & DISCARD_BIT) != 0) {
                continue;
            }
            handler.onRecord(data, offset + HEADER_BYTES, length);
            handed++;
        }
        return handed;
    }

    /** Bytes written by the kernel and not consumed yet. */
    long pendingBytes() {
        long producer = producerPosition.getLong(0);
        VarHandle.acquireFence();
        return producer - consumerPosition.getLong(0);
    }

    long dataBytes() {
        return dataBytes;
    }

    int mapFd() {
        return mapFd;
    }

    private static boolean failed(Pointer mapping) {
        return mapping == null || mapping.address() == MAP_FAILED;
    }

    @Override
    public void close() {
        if (producerPages != null) {
            libc.munmap(producerPages, pageSize + 2 * dataBytes);
            producerPages = null;
        }
        if (consumerPage != null) {
            libc.munmap(consumerPage, pageSize);
            consumerPage = null;
        }
    }
}
