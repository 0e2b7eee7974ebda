package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Exec records laid out as the eBPF program writes them, for the parser's tests and the ring reader's benchmark. */
final class ExecRecords {
    private ExecRecords() {
    }

    static ByteBuffer record(int flags, String comm, String filename) {
        return record(flags, comm, filename.getBytes(StandardCharsets.UTF_8), new byte[0], new byte[0]);
    }

    /** A record as the program writes it: the header, then the sections at their lengths (no cwd). */
    static ByteBuffer record(int flags, String comm, byte[] name, byte[] path, byte[] argv) {
        return record(flags, comm, name, path, argv, new byte[0]);
    }

    /** A record as the program writes it: the header, then the four sections at their lengths. */
    static ByteBuffer record(int flags, String comm, byte[] name, byte[] path, byte[] argv, byte[] cwd) {
        ByteBuffer b = ByteBuffer.allocate(REC_HDR_SIZE + name.length + path.length + argv.length + cwd.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(HEAD_OFF_KIND, REC_VERSION);
        b.putInt(HEAD_OFF_FLAGS, flags);
        b.putInt(HEAD_OFF_PID, 101);
        b.putInt(HEAD_OFF_TGID, 100);
        b.putInt(HEAD_OFF_PPID, 99);
        b.putInt(HEAD_OFF_UID, 1000);
        b.putInt(HEAD_OFF_GID, 1001);
        b.putInt(HEAD_OFF_MNT_NS, 0xF0000001); // inode numbers above 2^31 must stay positive
        b.putLong(HEAD_OFF_START_TIME, 123_456_789L);
        b.putLong(HEAD_OFF_TIMESTAMP, 223_456_789L);
        b.putLong(HEAD_OFF_CGROUP_ID, 4242L);
        b.putLong(HEAD_OFF_FILE_DEV, 64L);
        b.putLong(HEAD_OFF_FILE_INO, 777L);
        b.putLong(REC_OFF_INTERP_DEV, 65024L);
        b.putLong(REC_OFF_INTERP_INO, 888L);
        b.putInt(REC_OFF_EUID, 0);
        b.putInt(REC_OFF_EGID, 1001);
        b.putInt(REC_OFF_LOGINUID, -1);
        b.putInt(REC_OFF_SESSIONID, -1);
        b.putInt(REC_OFF_FILENAME_LEN, name.length);
        b.putInt(REC_OFF_PATH_LEN, path.length);
        b.putInt(REC_OFF_ARGV_LEN, argv.length);
        b.putInt(REC_OFF_CWD_LEN, cwd.length);
        b.put(REC_OFF_COMM, comm.getBytes(StandardCharsets.UTF_8));
        b.put(REC_OFF_PARENT_COMM, "sh".getBytes(StandardCharsets.UTF_8));
        b.put(REC_HDR_SIZE, name);
        b.put(REC_HDR_SIZE + name.length, path);
        b.put(REC_HDR_SIZE + name.length + path.length, argv);
        b.put(REC_HDR_SIZE + name.length + path.length + argv.length, cwd);
        return b;
    }
}
