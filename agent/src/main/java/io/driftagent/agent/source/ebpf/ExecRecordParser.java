package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;

import io.driftagent.agent.ring.RecordBytes;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import io.driftagent.agent.source.ExecEvent.KernelFacts;
import io.driftagent.agent.source.ExecEvent.Lineage;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.driftagent.agent.source.KernelArgv;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Decodes one raw exec record (the layout of {@link ExecRecordLayout}: a fixed header, then the filename, the kernel's
 * path of the file, argv and the working directory, each as long as the header says) into an {@link ExecEvent}. The
 * record is copied out of the mapped ring once ({@link RecordBytes}) and read from that copy; per record only the
 * event's own objects are allocated. Argv keeps at most {@link #MAX_ARGS} arguments; more, or bytes cut by the kernel,
 * set {@code argvTruncated}. One instance per reader thread (it keeps the copy).
 */
final class ExecRecordParser {
    /** The 16 possible {@link Flags}, indexed by overlay | upper << 1 | memfd << 2 | unlinked << 3. */
    private static final Flags[] FLAGS = new Flags[16];

    static {
        for (int i = 0; i < FLAGS.length; i++) {
            FLAGS[i] = new Flags((i & 1) != 0, (i & 2) != 0, (i & 4) != 0, (i & 8) != 0);
        }
    }

    /** The most arguments an event keeps; more are flagged as truncated. */
    static final int MAX_ARGS = 64;
    /** Audit's "unset" login uid and session id ((uid_t) -1, (unsigned int) -1). */
    private static final long AUDIT_UNSET = 0xFFFF_FFFFL;
    /** The longest well-formed record: the header and every section at its bound. */
    static final int MAX_RECORD = REC_HDR_SIZE + REC_FILENAME_MAX + REC_PATH_MAX + REC_ARGV_MAX + REC_CWD_MAX;

    private final RecordBytes rec = new RecordBytes(MAX_RECORD);

    /**
     * @param raw    little-endian; read with absolute indexes only
     * @param offset where the record starts in {@code raw}
     * @param length the record's length
     * @return the event, or null when the record is too short or too long, of an unknown version or its section
     *         lengths do not fit its length (counted by the caller)
     */
    ExecEvent parse(ByteBuffer raw, int offset, int length) {
        if (length < REC_HDR_SIZE || raw.order() != ByteOrder.LITTLE_ENDIAN
                || raw.getInt(offset + HEAD_OFF_KIND) != REC_VERSION) {
            return null;
        }
        // a record may end in padding past its sections: what is past the longest well-formed one is not read
        if (!rec.load(raw, offset, Math.min(length, MAX_RECORD))) {
            return null;
        }
        long filenameLen = rec.u32(REC_OFF_FILENAME_LEN);
        long pathLen = rec.u32(REC_OFF_PATH_LEN);
        long argvLen = rec.u32(REC_OFF_ARGV_LEN);
        long cwdLen = rec.u32(REC_OFF_CWD_LEN);
        long ancestorCount = rec.u32(REC_OFF_ANCESTOR_COUNT);
        if (filenameLen > REC_FILENAME_MAX || pathLen > REC_PATH_MAX || argvLen > REC_ARGV_MAX
                || cwdLen > REC_CWD_MAX || ancestorCount > REC_ANCESTORS_MAX
                || REC_HDR_SIZE + filenameLen + pathLen + argvLen + cwdLen > length) {
            return null;
        }
        int flags = rec.i32(HEAD_OFF_FLAGS);
        FileId file = new FileId(rec.i64(HEAD_OFF_FILE_DEV), rec.i64(HEAD_OFF_FILE_INO));
        FileId interpreter = (flags & FLAG_INTERPRETED) != 0
                ? new FileId(rec.i64(REC_OFF_INTERP_DEV), rec.i64(REC_OFF_INTERP_INO))
                : FileId.NONE;
        int filenameAt = REC_HDR_SIZE;
        int pathAt = filenameAt + (int) filenameLen;
        int argvAt = pathAt + (int) pathLen;
        String filename = rec.name(filenameAt, (int) filenameLen);
        // the usual exec names its file by its own absolute path: the kernel's path is then the same bytes, one String
        String path = pathLen == 0 ? null
                : pathLen == filenameLen && rec.sameBytes(filenameAt, pathAt, (int) pathLen)
                        ? filename : rec.name(pathAt, (int) pathLen);
        if (filenameLen == 0 && path != null && (flags & FLAG_SENT_AT_FORK) != 0) {
            filename = path; // an exec kept in the kernel until its process forked: no name as exec'd, its file's path
        }
        return new ExecEvent(
                rec.i32(HEAD_OFF_PID),
                rec.i32(HEAD_OFF_TGID),
                rec.i32(HEAD_OFF_PPID),
                rec.i32(HEAD_OFF_UID),
                rec.i32(HEAD_OFF_GID),
                rec.i64(HEAD_OFF_START_TIME),
                rec.cString(REC_OFF_COMM, REC_COMM_LEN),
                filename,
                file,
                interpreter,
                rec.i64(HEAD_OFF_CGROUP_ID),
                rec.u32(HEAD_OFF_MNT_NS),
                FLAGS[((flags & FLAG_OVERLAY) != 0 ? 1 : 0) | ((flags & FLAG_UPPER) != 0 ? 2 : 0)
                        | ((flags & FLAG_MEMFD) != 0 ? 4 : 0) | ((flags & FLAG_UNLINKED) != 0 ? 8 : 0)],
                ExecEvent.SourceKind.EBPF,
                rec.i64(HEAD_OFF_TIMESTAMP),
                kernelFacts(flags, path, argvAt, (int) argvLen,
                        lineage(flags, (int) ancestorCount, argvAt + (int) argvLen, (int) cwdLen)));
    }

    /** Ancestors, session leader and working directory (record version 3). */
    private Lineage lineage(int flags, int ancestorCount, int cwdAt, int cwdLen) {
        List<ProcessKey> ancestors = List.of();
        if (ancestorCount > 0) {
            ProcessKey[] keys = new ProcessKey[ancestorCount];
            for (int i = 0; i < ancestorCount; i++) {
                keys[i] = new ProcessKey(rec.i32(REC_OFF_ANCESTOR_TGID + 4 * i),
                        rec.i64(REC_OFF_ANCESTOR_START + 8 * i));
            }
            ancestors = List.of(keys);
        }
        int leaderTgid = rec.i32(REC_OFF_LEADER_TGID);
        boolean host = (flags & FLAG_HOST_PIDNS) != 0;
        ProcessKey leader = null;
        if (leaderTgid > 0 && !host && (flags & FLAG_LINEAGE_UNKNOWN) == 0) {
            long leaderStart = rec.i64(REC_OFF_LEADER_START_TIME);
            // the leader is the topmost ancestor unless the walk went past the record's bound
            ProcessKey topmost = ancestors.isEmpty() ? null : ancestors.get(ancestors.size() - 1);
            leader = topmost != null && topmost.tgid() == leaderTgid && topmost.startTimeNs() == leaderStart
                    ? topmost : new ProcessKey(leaderTgid, leaderStart);
        }
        // a working directory outside the process's root is a host path: not the process's own, not reported
        String cwd = cwdLen == 0 || (flags & FLAG_CWD_OUTSIDE_ROOT) != 0 ? null : rec.name(cwdAt, cwdLen);
        return new Lineage(true, rec.i64(REC_OFF_PARENT_START_TIME), ancestors, leader,
                leader != null ? rec.i32(REC_OFF_LEADER_NS_PID) : 0, host, cwd,
                (flags & FLAG_CWD_TRUNC) != 0);
    }

    private KernelFacts kernelFacts(int flags, String path, int argvAt, int argvLen, Lineage lineage) {
        int argc = rec.i32(REC_OFF_ARGC);
        KernelArgv argv = KernelArgv.owning(rec.copy(argvAt, argvLen), MAX_ARGS);
        long total = argv.total();
        boolean argvTruncated = (flags & FLAG_ARGV_TRUNC) != 0 || total > MAX_ARGS || argc > MAX_ARGS
                || argc > 0 && total < argc;
        boolean audit = (flags & FLAG_AUDIT_UNKNOWN) == 0;
        long loginUid = audit ? rec.u32(REC_OFF_LOGINUID) : AUDIT_UNSET;
        long sessionId = audit ? rec.u32(REC_OFF_SESSIONID) : AUDIT_UNSET;
        String parentComm = rec.cString(REC_OFF_PARENT_COMM, REC_COMM_LEN);
        return new KernelFacts(
                path,
                (flags & FLAG_PATH_TRUNC) != 0,
                (flags & FLAG_PATH_OUTSIDE_ROOT) != 0,
                (flags & FLAG_PATH_OTHER_MOUNT) != 0,
                argv,
                argvTruncated,
                argc > 0 ? argc : -1,
                rec.u32(REC_OFF_EUID),
                rec.u32(REC_OFF_EGID),
                loginUid == AUDIT_UNSET ? -1 : loginUid,
                sessionId == AUDIT_UNSET ? -1 : sessionId,
                parentComm.isEmpty() ? null : parentComm,
                lineage);
    }
}
