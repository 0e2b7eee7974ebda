package io.driftagent.agent.provenance;

import static io.driftagent.agent.provenance.WriteRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;

import io.driftagent.agent.ring.RecordBytes;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.KernelArgv;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes one raw write record ({@link WriteRecordLayout}) from its copy ({@link RecordBytes}); one instance per reader thread. */
final class WriteRecordParser {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    /** Arguments kept of a writer's command line; the kernel already bounds its bytes. */
    static final int MAX_ARGS = 64;

    /** The longest well-formed record: the header and both sections at their bounds. */
    static final int MAX_RECORD = REC_HDR_SIZE + REC_EXE_MAX + REC_ARGV_MAX;

    private final RecordBytes rec = new RecordBytes(MAX_RECORD);

    /** The record, or null when it is too short, not a write record or its lengths do not fit (counted by the caller). */
    WriteRecord parse(ByteBuffer raw, int offset, int length) {
        if (length < REC_HDR_SIZE || raw.order() != ByteOrder.LITTLE_ENDIAN
                || raw.getInt(offset + HEAD_OFF_KIND) != REC_KIND) {
            return null;
        }
        if (!rec.load(raw, offset, Math.min(length, MAX_RECORD))) {
            return null;
        }
        int flags = rec.i32(HEAD_OFF_FLAGS);
        long exeLen = rec.u32(REC_OFF_EXE_LEN);
        long argvLen = rec.u32(REC_OFF_ARGV_LEN);
        if (exeLen > REC_EXE_MAX || argvLen > REC_ARGV_MAX || REC_HDR_SIZE + exeLen + argvLen > length) {
            return null;
        }
        boolean remoteUpdate = (flags & FLAG_REMOTE_UPDATE) != 0;
        FileId file = remoteUpdate ? FileId.NONE : new FileId(rec.i64(HEAD_OFF_FILE_DEV), rec.i64(HEAD_OFF_FILE_INO));
        if (!remoteUpdate && !file.isKnown()) {
            return null;
        }
        int exeAt = REC_HDR_SIZE;
        String exe = exeLen == 0 ? null : rec.name(exeAt, (int) exeLen);
        KernelArgv argv = KernelArgv.owning(rec.copy(exeAt + (int) exeLen, (int) argvLen), MAX_ARGS);
        return new WriteRecord(rec.i32(HEAD_OFF_TGID), rec.i64(HEAD_OFF_START_TIME), rec.i64(HEAD_OFF_TIMESTAMP),
                rec.u32(HEAD_OFF_MNT_NS), file, exe, argv, remote(rec), remoteUpdate);
    }

    /** {@code a.b.c.d:port} or {@code [v6]:port}, null when the writer had no TCP peer. */
    private static String remote(RecordBytes rec) {
        int family = rec.u16(REC_OFF_REMOTE_FAMILY);
        int port = rec.u16(REC_OFF_REMOTE_PORT);
        if (family != AF_INET && family != AF_INET6) {
            return null;
        }
        byte[] address = rec.copy(REC_OFF_REMOTE_ADDR, family == AF_INET ? 4 : 16);
        try {
            String host = InetAddress.getByAddress(address).getHostAddress();
            return family == AF_INET6 ? "[" + host + "]:" + port : host + ":" + port;
        } catch (UnknownHostException e) {
            return null; // not reached: the length is 4 or 16
        }
    }
}
