package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.provenance.WriteRecordLayout;
import io.driftagent.agent.provenance.WriteTracking;
import io.driftagent.agent.ring.RecordHeadLayout;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.SourceUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains the exec ring buffer: each record is decoded and offered to the sink on the calling thread (one reader
 * thread only). Never blocks the kernel side: a sink that refuses an event gets it counted as "queue_full". It also
 * counts the records that may be drift ("prompt": not an image-layer file), which set how the reader waits.
 */
final class ExecRingReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExecRingReader.class);

    private final MappedRingBuffer ring;
    private final ExecRecordParser parser = new ExecRecordParser();
    private final io.driftagent.agent.library.MapRecordParser mapParser = new io.driftagent.agent.library.MapRecordParser();
    private final ExecEventSink sink;
    private final MappedRingBuffer.RecordHandler handler = this::onRecord;
    /** Decoded events waiting to be offered: those that may be drift first, each list oldest first. */
    private final List<ExecEvent> urgent = new ArrayList<>();
    private final List<ExecEvent> others = new ArrayList<>();
    /** As the ring's own batches: the events that may be drift go first within at most this many. */
    private static final int MAX_BATCH = 512;
    /** Records that may be drift go first: a drift exec rung for in the lazy state is not queued behind the image
     * execs that waited for the reader's long clock in the pipeline. A mapping record always may. */
    private static boolean mayBeDrift(boolean mapping, ByteBuffer data, int offset, int length) {
        return mapping || length >= ExecRecordLayout.REC_HDR_SIZE
                && !ExecRecordLayout.isImageLayer(data.getInt(offset + RecordHeadLayout.HEAD_OFF_FLAGS));
    }
    private final WriteTracking writes;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong queueFull = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong sinkFailed = new AtomicLong();
    private long promptRecords;

    /** Over a mapped ring (closed with this reader). */
    ExecRingReader(MappedRingBuffer ring, ExecEventSink sink) {
        this(ring, sink, WriteTracking.NONE);
    }

    /** Over a mapped ring that also carries write records, handed to {@code writes}. */
    ExecRingReader(MappedRingBuffer ring, ExecEventSink sink, WriteTracking writes) {
        this.ring = ring;
        this.sink = sink;
        this.writes = writes;
    }

    /** Maps the program's events ring. */
    static ExecRingReader open(LibbpfBindings bindings, int ringBufferFd, int ringBufferBytes, ExecEventSink sink)
            throws SourceUnavailableException {
        return open(bindings, ringBufferFd, ringBufferBytes, sink, WriteTracking.NONE);
    }

    /** Maps the program's events ring, whose write records go to {@code writes}. */
    static ExecRingReader open(LibbpfBindings bindings, int ringBufferFd, int ringBufferBytes, ExecEventSink sink,
                               WriteTracking writes) throws SourceUnavailableException {
        try {
            return new ExecRingReader(new MappedRingBuffer(bindings.memory(), bindings.runtime(), ringBufferFd,
                    ringBufferBytes), sink, writes);
        } catch (IOException | RuntimeException e) {
            throw new SourceUnavailableException("cannot map the exec ring buffer: " + e.getMessage(), e);
        }
    }

    /**
     * Handles every record available now without waiting: each is decoded and observed ({@link ExecEventSink#observe})
     * in the kernel's order, then offered in batches of at most {@value #MAX_BATCH}, in each the records that may be
     * drift first. Returns how many.
     */
    int consume() {
        int handed = ring.drain(handler);
        offerPending();
        return handed;
    }

    /** Records so far that may be drift (not an image-layer exec); read on the reader thread. */
    long promptRecords() {
        return promptRecords;
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

    private void onRecord(ByteBuffer data, int offset, int length) {
        boolean mapping;
        try {
            // the first u32 tells a record's kind: an exec record's version, a write record's or a mapping record's
            // magic
            int kind = RecordHeadLayout.kind(data, offset, length);
            if (kind == WriteRecordLayout.REC_KIND) {
                writes.onWriteRecord(data, offset, length);
                return;
            }
            mapping = kind == io.driftagent.agent.library.MapRecordLayout.REC_MAGIC;
            ExecEvent event = mapping ? mapParser.parse(data, offset, length) : parser.parse(data, offset, length);
            if (event == null) {
                malformed.incrementAndGet();
                return;
            }
            if (!event.isLibraryLoad()) {
                // a library load is no new image of its process: neither a writer's nor an ancestor's
                writes.onExec(event);
                sink.observe(event);
            }
            if (mayBeDrift(mapping, data, offset, length)) {
                promptRecords++;
                urgent.add(event);
            } else {
                others.add(event);
            }
        } catch (RuntimeException e) {
            // the event is lost and counted; the reader goes on with the next record
            sinkFailed.incrementAndGet();
            LOG.debug("exec record handling failed", e);
        }
        if (urgent.size() + others.size() >= MAX_BATCH) {
            offerPending();
        }
    }

    private void offerPending() {
        for (ExecEvent event : urgent) {
            offer(event);
        }
        for (ExecEvent event : others) {
            offer(event);
        }
        urgent.clear();
        others.clear();
    }

    private void offer(ExecEvent event) {
        try {
            if (sink.offer(event)) {
                delivered.incrementAndGet();
            } else {
                queueFull.incrementAndGet();
            }
        } catch (RuntimeException e) {
            sinkFailed.incrementAndGet();
            LOG.debug("exec event offer failed", e);
        }
    }

    @Override
    public void close() {
        ring.close();
    }
}
