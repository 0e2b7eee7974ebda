package io.driftagent.agent.ring;

import java.nio.ByteBuffer;

/**
 * The Java mirror of the head every record of the eBPF events ring starts with ({@code struct record_head} and its
 * {@code RECORD_HEAD_*} macros in {@code src/main/bpf/common.bpf.h}): the record's kind, its flags, the process, the
 * time, the cgroup and the file the record is about, at the same offsets in exec, mapping and write records. Each
 * record's own layout ({@code ExecRecordLayout}, {@code MapRecordLayout}, {@code WriteRecordLayout}) places its
 * fields after {@link #HEAD_SIZE}. Every constant has the header's macro name minus the {@code RECORD_} prefix;
 * {@code RecordHeadLayoutTest} checks they agree, {@code RingRecordsBtfTest} that they match the compiled object.
 */
public final class RecordHeadLayout {
    /** The u32 the ring's reader dispatches on: an exec record's version, a mapping or write record's magic. */
    public static final int HEAD_OFF_KIND = 0;
    public static final int HEAD_OFF_FLAGS = 4;
    public static final int HEAD_OFF_PID = 8;
    public static final int HEAD_OFF_TGID = 12;
    public static final int HEAD_OFF_PPID = 16;
    public static final int HEAD_OFF_UID = 20;
    public static final int HEAD_OFF_GID = 24;
    public static final int HEAD_OFF_MNT_NS = 28;
    public static final int HEAD_OFF_START_TIME = 32;
    public static final int HEAD_OFF_TIMESTAMP = 40;
    public static final int HEAD_OFF_CGROUP_ID = 48;
    public static final int HEAD_OFF_FILE_DEV = 56;
    public static final int HEAD_OFF_FILE_INO = 64;
    public static final int HEAD_SIZE = 72;

    /** The record's kind (its first u32), or 0 when the record is too short to have one. */
    public static int kind(ByteBuffer raw, int offset, int length) {
        return length >= 4 ? raw.getInt(offset + HEAD_OFF_KIND) : 0;
    }

    private RecordHeadLayout() {
    }
}
