package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.*;

import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Decodes one raw exec record (the layout of {@link ExecRecordLayout}) into an {@link ExecEvent}, reading it where it
 * lies (the mapped ring): no copy of the record, and per record only the event's own objects are allocated. One
 * instance per reader thread (it keeps a scratch array).
 */
final class ExecRecordParser {
    /** The 16 possible {@link Flags}, indexed by overlay | upper << 1 | memfd << 2 | unlinked << 3. */
    private static final Flags[] FLAGS = new Flags[16];

    static {
        for (int i = 0; i < FLAGS.length; i++) {
            FLAGS[i] = new Flags((i & 1) != 0, (i & 2) != 0, (i & 4) != 0, (i & 8) != 0);
        }
    }

    private final byte[] scratch = new byte[REC_FILENAME_LEN];

    /**
     * @param raw    little-endian; read with absolute indexes only
     * @param offset where the record starts in {@code raw}
     * @param length the record's length
     * @return the event, or null when the record is too short or of an unknown version (counted by the caller)
     */
    ExecEvent parse(ByteBuffer raw, int offset, int length) {
        if (length < REC_SIZE || raw.order() != ByteOrder.LITTLE_ENDIAN
                || raw.getInt(offset + REC_OFF_VERSION) != REC_VERSION) {
            return null;
        }
        int flags = raw.getInt(offset + REC_OFF_FLAGS);
        FileId file = new FileId(raw.getLong(offset + REC_OFF_FILE_DEV), raw.getLong(offset + REC_OFF_FILE_INO));
        FileId interpreter = (flags & FLAG_INTERPRETED) != 0
                ? new FileId(raw.getLong(offset + REC_OFF_INTERP_DEV), raw.getLong(offset + REC_OFF_INTERP_INO))
                : FileId.NONE;
        long declaredLen = Integer.toUnsignedLong(raw.getInt(offset + REC_OFF_FILENAME_LEN));
        int filenameLen = (int) Math.min(declaredLen, REC_FILENAME_LEN - 1);
        return new ExecEvent(
                raw.getInt(offset + REC_OFF_PID),
                raw.getInt(offset + REC_OFF_TGID),
                raw.getInt(offset + REC_OFF_PPID),
                raw.getInt(offset + REC_OFF_UID),
                raw.getInt(offset + REC_OFF_GID),
                raw.getLong(offset + REC_OFF_START_TIME),
                cString(raw, offset + REC_OFF_COMM, REC_COMM_LEN),
                string(raw, offset + REC_OFF_FILENAME, filenameLen),
                file,
                interpreter,
                raw.getLong(offset + REC_OFF_CGROUP_ID),
                Integer.toUnsignedLong(raw.getInt(offset + REC_OFF_MNT_NS)),
                FLAGS[((flags & FLAG_OVERLAY) != 0 ? 1 : 0) | ((flags & FLAG_UPPER) != 0 ? 2 : 0)
                        | ((flags & FLAG_MEMFD) != 0 ? 4 : 0) | ((flags & FLAG_UNLINKED) != 0 ? 8 : 0)],
                ExecEvent.SourceKind.EBPF,
                raw.getLong(offset + REC_OFF_TIMESTAMP));
    }

    private String cString(ByteBuffer b, int offset, int max) {
        b.get(offset, scratch, 0, max);
        int len = 0;
        while (len < max && scratch[len] != 0) {
            len++;
        }
        return new String(scratch, 0, len, StandardCharsets.UTF_8);
    }

    private String string(ByteBuffer b, int offset, int len) {
        b.get(offset, scratch, 0, len);
        // names are bytes in the kernel: the PathBytes mapping keeps bytes that are not UTF-8, so the file can be
        // found again by its exact name
        return PathBytes.decode(scratch, 0, len);
    }
}
