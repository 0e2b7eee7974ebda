package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.*;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Decodes one raw exec record (the layout of {@link ExecRecordLayout}) into an {@link ExecEvent}. */
final class ExecRecordParser {

    /**
     * @return the event, or empty when the record is too short or of an unknown version (counted by the caller)
     */
    Optional<ExecEvent> parse(ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        if (b.remaining() < REC_SIZE || b.getInt(base + REC_OFF_VERSION) != REC_VERSION) {
            return Optional.empty();
        }
        int flags = b.getInt(base + REC_OFF_FLAGS);
        FileId file = new FileId(b.getLong(base + REC_OFF_FILE_DEV), b.getLong(base + REC_OFF_FILE_INO));
        FileId interpreter = (flags & FLAG_INTERPRETED) != 0
                ? new FileId(b.getLong(base + REC_OFF_INTERP_DEV), b.getLong(base + REC_OFF_INTERP_INO))
                : FileId.NONE;
        long declaredLen = Integer.toUnsignedLong(b.getInt(base + REC_OFF_FILENAME_LEN));
        int filenameLen = (int) Math.min(declaredLen, REC_FILENAME_LEN - 1);
        return Optional.of(new ExecEvent(
                b.getInt(base + REC_OFF_PID),
                b.getInt(base + REC_OFF_TGID),
                b.getInt(base + REC_OFF_PPID),
                b.getInt(base + REC_OFF_UID),
                b.getInt(base + REC_OFF_GID),
                b.getLong(base + REC_OFF_START_TIME),
                cString(b, base + REC_OFF_COMM, REC_COMM_LEN),
                string(b, base + REC_OFF_FILENAME, filenameLen),
                file,
                interpreter,
                b.getLong(base + REC_OFF_CGROUP_ID),
                Integer.toUnsignedLong(b.getInt(base + REC_OFF_MNT_NS)),
                new Flags(
                        (flags & FLAG_OVERLAY) != 0,
                        (flags & FLAG_UPPER) != 0,
                        (flags & FLAG_MEMFD) != 0,
                        (flags & FLAG_UNLINKED) != 0),
                ExecEvent.SourceKind.EBPF,
                b.getLong(base + REC_OFF_TIMESTAMP)));
    }

    private static String cString(ByteBuffer b, int offset, int max) {
        int len = 0;
        while (len < max && b.get(offset + len) != 0) {
            len++;
        }
        return string(b, offset, len);
    }

    private static String string(ByteBuffer b, int offset, int len) {
        byte[] bytes = new byte[len];
        b.get(offset, bytes);
        // names are bytes in the kernel; invalid UTF-8 becomes U+FFFD (the dev/ino, not the name, identify the file)
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
