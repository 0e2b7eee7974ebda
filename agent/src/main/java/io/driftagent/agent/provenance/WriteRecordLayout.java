package io.driftagent.agent.provenance;

import io.driftagent.agent.ring.RecordHeadLayout;

/**
 * The Java mirror of {@code src/main/bpf/write_record.h}: the byte layout (little-endian) of one write record in the
 * exec ring: the record head every ring record starts with ({@link RecordHeadLayout}), then the write record's own
 * fields. Every constant has the header's macro name minus the {@code WRITE_} prefix; {@code WriteRecordLayoutTest}
 * checks they agree, {@code RingRecordsBtfTest} that they match the compiled object.
 */
public final class WriteRecordLayout {
    /** The u32 at offset 0 of a write record ("ORIG"): the ring's readers dispatch on it. */
    public static final int REC_KIND = 0x4f524947;
    static final int REC_EXE_MAX = 4095;
    static final int REC_ARGV_MAX = 1024;
    static final int REC_DATA_LEN = 5120;
    static final int REC_OFF_REMOTE_PORT = 72;
    static final int REC_OFF_REMOTE_FAMILY = 74;
    static final int REC_OFF_REMOTE_ADDR = 76;
    static final int REC_OFF_EXE_LEN = 92;
    static final int REC_OFF_ARGV_LEN = 96;
    static final int REC_HDR_SIZE = 100;

    static final int FLAG_REMOTE_UPDATE = 0x01;
    static final int FLAG_EXE_TRUNC = 0x02;
    static final int FLAG_ARGV_TRUNC = 0x04;

    /** Indexes of the kernel's origin counters (write_record.h WRITE_CTR_*). */
    public static final int CTR_OPENS = 0;
    public static final int CTR_EMITTED = 1;
    public static final int CTR_RINGBUF_FULL = 2;
    public static final int CTR_CONNECTS = 3;
    public static final int CTR_REMOTE_UPDATES = 4;
    public static final int CTR_COUNT = 5;

    private WriteRecordLayout() {
    }
}
