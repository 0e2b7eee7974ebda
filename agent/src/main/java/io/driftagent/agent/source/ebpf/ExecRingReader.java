package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.SourceUnavailableException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains the exec ring buffer: each record is decoded and offered to the sink on the calling thread (one reader
 * thread only). Never blocks the kernel side: a sink that refuses an event gets it counted as "queue_full".
 */
final class ExecRingReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExecRingReader.class);

    private final Libbpf libbpf;
    private final ExecRecordParser parser = new ExecRecordParser();
    private final ExecEventSink sink;
    private final byte[] record = new byte[ExecRecordLayout.REC_SIZE];
    private final ByteBuffer recordBuffer = ByteBuffer.wrap(record);
    // libbpf holds only the native stub of this callback: the Java object must stay strongly reachable
    private final Libbpf.RingBufferSampleCallback callback = this::onSample;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong queueFull = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong sinkFailed = new AtomicLong();
    private Pointer ringBuffer;

    ExecRingReader(LibbpfBindings bindings, int ringBufferFd, ExecEventSink sink) throws SourceUnavailableException {
        this.libbpf = bindings.libbpf();
        this.sink = sink;
        this.ringBuffer = libbpf.ring_buffer__new(ringBufferFd, callback, null, null);
        if (ringBuffer == null) {
            throw new SourceUnavailableException("ring_buffer__new failed: "
                    + Errno.describe(bindings.runtime().getLastError()));
        }
    }

    /** Waits up to {@code timeoutMs} for records and handles all available; returns how many, or a negative errno. */
    int poll(int timeoutMs) {
        return libbpf.ring_buffer__poll(ringBuffer, timeoutMs);
    }

    /** Handles every record available now without waiting; returns how many, or a negative errno. */
    int consume() {
        return libbpf.ring_buffer__consume(ringBuffer);
    }

    long delivered() {
        return delivered.get();
    }

    long queueFull() {
        return queueFull.get();
    }

    long malformed() {
        return malformed.get();
    }

    long sinkFailed() {
        return sinkFailed.get();
    }

    private int onSample(Pointer ctx, Pointer data, long size) {
        try {
            if (size < ExecRecordLayout.REC_SIZE) {
                malformed.incrementAndGet();
                return 0;
            }
            data.get(0, record, 0, ExecRecordLayout.REC_SIZE);
            Optional<ExecEvent> event = parser.parse(recordBuffer.clear());
            if (event.isEmpty()) {
                malformed.incrementAndGet();
            } else if (sink.offer(event.get())) {
                delivered.incrementAndGet();
            } else {
                queueFull.incrementAndGet();
            }
        } catch (RuntimeException e) {
            // never unwind into libbpf's C frames; the event is lost and counted
            sinkFailed.incrementAndGet();
            LOG.debug("exec record handling failed", e);
        }
        return 0;
    }

    @Override
    public void close() {
        if (ringBuffer != null) {
            libbpf.ring_buffer__free(ringBuffer);
            ringBuffer = null;
        }
    }
}
