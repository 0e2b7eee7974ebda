package io.driftagent.agent.provenance;

import static io.driftagent.agent.provenance.WriteRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;

import io.driftagent.agent.ring.RecordText;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.KernelArgv;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Decodes one raw write record ({@link WriteRecordLayout}) where it lies; one instance per reader thread. */
final class WriteRecordParser {
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    /** Arguments kept of a writer's command line; the kernel already bounds its bytes. */
    static final int MAX_ARGS = 64;

    private final byte[] scratch = new byte[REC_EXE_MAX + 1];

    /** The record, or null when it is too short, not a write record or its lengths do not fit (counted by the caller). */
    WriteRecord parse(ByteBuffer raw, int offset, int length) {
        if (length < REC_HDR_SIZE || raw.order() != ByteOrder.LITTLE_ENDIAN
                || raw.getInt(offset + HEAD_OFF_KIND) != REC_KIND) {
            return null;
        }
        int flags = raw.getInt(offset + HEAD_OFF_FLAGS);
        long exeLen = Integer.toUnsignedLong(raw.getInt(offset + REC_OFF_EXE_LEN));
        long argvLen = Integer.toUnsignedLong(raw.getInt(offset + REC_OFF_ARGV_LEN));
        if (exeLen > REC_EXE_MAX || argvLen > REC_ARGV_MAX || REC_HDR_SIZE + exeLen + argvLen > length) {
            return null;
        }
        boolean remoteUpdate = (flags & FLAG_REMOTE_UPDATE) != 0;
        FileId file = remoteUpdate ? FileId.NONE
                : new FileId(raw.getLong(offset + HEAD_OFF_FILE_DEV), raw.getLong(offset + HEAD_OFF_FILE_INO));
        if (!remoteUpdate && !file.isKnown()) {
            return null;
        }
        int exeAt = offset + REC_HDR_SIZE;
        String exe = exeLen == 0 ? null : RecordText.name(raw, exeAt, (int) exeLen, scratch);
        KernelArgv argv = KernelArgv.of(raw, exeAt + (int) exeLen, (int) argvLen, MAX_ARGS);
        return new WriteRecord(raw.getInt(offset + HEAD_OFF_TGID), raw.getLong(offset + HEAD_OFF_START_TIME),
                raw.getLong(offset + HEAD_OFF_TIMESTAMP), Integer.toUnsignedLong(raw.getInt(offset + HEAD_OFF_MNT_NS)),
                file, exe, argv, remote(raw, offset), remoteUpdate);
    }

    /** {@code a.b.c.d:port} or {@code [v6]:port}, null when the writer had no TCP peer. */
    static String remote(ByteBuffer raw, int offset) {
        int family = Short.toUnsignedInt(raw.getShort(offset + REC_OFF_REMOTE_FAMILY));
        int port = Short.toUnsignedInt(raw.getShort(offset + REC_OFF_REMOTE_PORT));
        if (family != AF_INET && family != AF_INET6) {
            return null;
        }
        byte[] address = new byte[family == AF_INET ? 4 : 16];
        raw.get(offset + REC_OFF_REMOTE_ADDR, address);
        try {
            String host = InetAddress.getByAddress(address).getHostAddress();
            return family == AF_INET6 ? "[" + host + "]:" + port : host + ":" + port;
        } catch (UnknownHostException e) {
            return null; // not reached: the length is 4 or 16
        }
    }
}
