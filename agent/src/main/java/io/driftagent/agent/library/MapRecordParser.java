package io.driftagent.agent.library;

import static io.driftagent.agent.library.MapRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;

import io.driftagent.agent.ring.RecordBytes;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.KernelArgv;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes one executable-mapping record ({@link MapRecordLayout}) into an {@link ExecEvent} of trigger
 * {@link ExecEvent.Trigger#LIBRARY_LOAD}: the mapped file stands where an exec's file does (filename, file, flags,
 * the kernel's path), so the pipeline attributes, classifies and judges it as it does an exec'd binary; the
 * process's own executable is {@link ExecEvent#processExe()} and its argv the kernel facts' argv. The record is read
 * from its copy ({@link RecordBytes}). One instance per reader thread (it keeps the copy).
 */
public final class MapRecordParser {
    /** The most arguments an event keeps; more are flagged as truncated. */
    static final int MAX_ARGS = 64;

    /** The longest well-formed record: the header and every section at its bound. */
    static final int MAX_RECORD = REC_HDR_SIZE + REC_PATH_MAX + REC_EXE_PATH_MAX + REC_ARGV_MAX;

    private final RecordBytes rec = new RecordBytes(MAX_RECORD);

    /**
     * @return the event, or null when the record is not a mapping record, too short, or its section lengths do not
     *         fit its length (counted by the caller)
     */
    public ExecEvent parse(ByteBuffer raw, int offset, int length) {
        if (length < REC_HDR_SIZE || raw.order() != ByteOrder.LITTLE_ENDIAN
                || raw.getInt(offset + HEAD_OFF_KIND) != REC_MAGIC) {
            return null;
        }
        if (!rec.load(raw, offset, Math.min(length, MAX_RECORD))) {
            return null;
        }
        long pathLen = rec.u32(REC_OFF_PATH_LEN);
        long exeLen = rec.u32(REC_OFF_EXE_PATH_LEN);
        long argvLen = rec.u32(REC_OFF_ARGV_LEN);
        if (pathLen > REC_PATH_MAX || exeLen > REC_EXE_PATH_MAX || argvLen > REC_ARGV_MAX
                || REC_HDR_SIZE + pathLen + exeLen + argvLen > length) {
            return null;
        }
        int flags = rec.i32(HEAD_OFF_FLAGS);
        int pathAt = REC_HDR_SIZE;
        int exeAt = pathAt + (int) pathLen;
        int argvAt = exeAt + (int) exeLen;
        String path = pathLen == 0 ? null : rec.name(pathAt, (int) pathLen);
        boolean exeExact = exeLen > 0 && (flags & (FLAG_EXE_PATH_TRUNC | FLAG_EXE_PATH_OUTSIDE_ROOT)) == 0;
        String exe = exeExact ? rec.name(exeAt, (int) exeLen) : null;
        KernelArgv argv = KernelArgv.owning(rec.copy(argvAt, (int) argvLen), MAX_ARGS);
        boolean argvTruncated = (flags & FLAG_ARGV_TRUNC) != 0 || argv.total() > MAX_ARGS;
        ExecEvent.KernelFacts kernel = new ExecEvent.KernelFacts(path, (flags & FLAG_PATH_TRUNC) != 0,
                (flags & FLAG_PATH_OUTSIDE_ROOT) != 0, (flags & FLAG_PATH_OTHER_MOUNT) != 0, argv, argvTruncated, -1,
                rec.u32(REC_OFF_EUID), -1, -1, -1, null);
        return new ExecEvent(
                rec.i32(HEAD_OFF_PID),
                rec.i32(HEAD_OFF_TGID),
                rec.i32(HEAD_OFF_PPID),
                rec.i32(HEAD_OFF_UID),
                rec.i32(HEAD_OFF_GID),
                rec.i64(HEAD_OFF_START_TIME),
                rec.cString(REC_OFF_COMM, REC_COMM_LEN),
                // the name the file was mapped under: the kernel's path (a mapping names no file of its own)
                path == null ? "" : path,
                new ExecEvent.FileId(rec.i64(HEAD_OFF_FILE_DEV), rec.i64(HEAD_OFF_FILE_INO)),
                ExecEvent.FileId.NONE,
                rec.i64(HEAD_OFF_CGROUP_ID),
                rec.u32(HEAD_OFF_MNT_NS),
                new ExecEvent.Flags((flags & FLAG_OVERLAY) != 0, (flags & FLAG_UPPER) != 0,
                        (flags & FLAG_MEMFD) != 0, (flags & FLAG_UNLINKED) != 0),
                ExecEvent.SourceKind.EBPF,
                rec.i64(HEAD_OFF_TIMESTAMP),
                kernel,
                ExecEvent.Trigger.LIBRARY_LOAD,
                exe);
    }
}
