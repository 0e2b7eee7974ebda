package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.ring.RecordHeadLayout;

/**
 * The Java mirror of {@code src/main/bpf/exec_record.h}: the byte layout (little-endian) of one exec record in
 * the ring buffer: the record head every ring record starts with ({@link RecordHeadLayout}), then the exec record's
 * own fields. Every constant here has the same name as the header's macro minus the {@code EXEC_} prefix;
 * {@code ExecRecordLayoutTest} checks they agree, {@code RingRecordsBtfTest} that they match the compiled object.
 */
final class ExecRecordLayout {
    static final int REC_VERSION = 3;
    static final int REC_COMM_LEN = 16;
    static final int REC_FILENAME_MAX = 255;
    static final int REC_PATH_MAX = 4095;
    static final int REC_ARGV_MAX = 4096;
    static final int REC_ANCESTORS_MAX = 8;
    static final int REC_CWD_MAX = 4095;
    static final int REC_DATA_LEN = 12544;
    static final int REC_OFF_INTERP_DEV = 72;
    static final int REC_OFF_INTERP_INO = 80;
    static final int REC_OFF_EUID = 88;
    static final int REC_OFF_EGID = 92;
    static final int REC_OFF_LOGINUID = 96;
    static final int REC_OFF_SESSIONID = 100;
    static final int REC_OFF_ARGC = 104;
    static final int REC_OFF_FILENAME_LEN = 108;
    static final int REC_OFF_PATH_LEN = 112;
    static final int REC_OFF_ARGV_LEN = 116;
    static final int REC_OFF_COMM = 120;
    static final int REC_OFF_PARENT_COMM = 136;
    static final int REC_OFF_PARENT_START_TIME = 152;
    static final int REC_OFF_LEADER_START_TIME = 160;
    static final int REC_OFF_LEADER_TGID = 168;
    static final int REC_OFF_LEADER_NS_PID = 172;
    static final int REC_OFF_ANCESTOR_COUNT = 176;
    static final int REC_OFF_CWD_LEN = 180;
    static final int REC_OFF_ANCESTOR_TGID = 184;
    static final int REC_OFF_ANCESTOR_START = 216;
    static final int REC_HDR_SIZE = 280;

    static final int FLAG_OVERLAY = 0x01;
    static final int FLAG_UPPER = 0x02;
    static final int FLAG_MEMFD = 0x04;
    static final int FLAG_UNLINKED = 0x08;
    static final int FLAG_INTERPRETED = 0x10;
    static final int FLAG_SCRIPT_UNRESOLVED = 0x20;
    static final int FLAG_FILENAME_TRUNC = 0x40;
    static final int FLAG_FALLBACK_TP = 0x80;
    static final int FLAG_PATH_TRUNC = 0x100;
    static final int FLAG_PATH_OUTSIDE_ROOT = 0x200;
    static final int FLAG_PATH_OTHER_MOUNT = 0x400;
    static final int FLAG_ARGV_TRUNC = 0x800;
    static final int FLAG_AUDIT_UNKNOWN = 0x1000;
    static final int FLAG_CWD_TRUNC = 0x2000;
    static final int FLAG_CWD_OUTSIDE_ROOT = 0x4000;
    static final int FLAG_HOST_PIDNS = 0x8000;
    static final int FLAG_LINEAGE_UNKNOWN = 0x10000;
    static final int FLAG_SENT_AT_FORK = 0x20000;

    static final int CTR_SEEN = 0;
    static final int CTR_RINGBUF_FULL = 1;
    static final int CTR_KEPT = 2;
    static final int CTR_SENT_AT_FORK = 3;
    static final int CTR_COUNT = 4;
    /** reader_state values (exec_record.h EXEC_READER_*). */
    static final int READER_SLEEPING = 0;
    static final int READER_POLLING = 1;
    static final int READER_LAZY = 2;

    /**
     * An exec of a file in a container image's read-only layer (exec_record.h EXEC_IMAGE_LAYER_MASK / _BITS): never
     * drift by itself, so the program does not wake a lazy reader for it.
     */
    static boolean isImageLayer(int flags) {
        int mask = FLAG_OVERLAY | FLAG_UPPER | FLAG_MEMFD | FLAG_UNLINKED | FLAG_SCRIPT_UNRESOLVED;
        return (flags & mask) == FLAG_OVERLAY;
    }

    private ExecRecordLayout() {
    }
}
