package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ExecRecordParserTest {
    private final ExecRecordParser parser = new ExecRecordParser();

    /** Parses a record that sits at offset 8 of a larger direct buffer, as in the mapped ring. */
    private ExecEvent parse(ByteBuffer record) {
        ByteBuffer ring = ByteBuffer.allocateDirect(REC_SIZE + 16).order(ByteOrder.LITTLE_ENDIAN);
        ring.put(8, record, 0, REC_SIZE);
        ExecEvent e = parser.parse(ring, 8, REC_SIZE);
        assertThat(e).isNotNull();
        return e;
    }

    static ByteBuffer record(int flags, String comm, String filename) {
        ByteBuffer b = ByteBuffer.allocate(REC_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(REC_OFF_VERSION, REC_VERSION);
        b.putInt(REC_OFF_FLAGS, flags);
        b.putInt(REC_OFF_PID, 101);
        b.putInt(REC_OFF_TGID, 100);
        b.putInt(REC_OFF_PPID, 99);
        b.putInt(REC_OFF_UID, 1000);
        b.putInt(REC_OFF_GID, 1001);
        b.putInt(REC_OFF_MNT_NS, 0xF0000001); // inode numbers above 2^31 must stay positive
        b.putLong(REC_OFF_START_TIME, 123_456_789L);
        b.putLong(REC_OFF_TIMESTAMP, 223_456_789L);
        b.putLong(REC_OFF_CGROUP_ID, 4242L);
        b.putLong(REC_OFF_FILE_DEV, 64L);
        b.putLong(REC_OFF_FILE_INO, 777L);
        b.putLong(REC_OFF_INTERP_DEV, 65024L);
        b.putLong(REC_OFF_INTERP_INO, 888L);
        byte[] name = filename.getBytes(StandardCharsets.UTF_8);
        b.putInt(REC_OFF_FILENAME_LEN, name.length);
        b.put(REC_OFF_COMM, comm.getBytes(StandardCharsets.UTF_8));
        b.put(REC_OFF_FILENAME, name);
        return b;
    }

    @Test
    void decodesEveryFieldOfAScriptRecord() {
        // given
        ByteBuffer raw = record(FLAG_OVERLAY | FLAG_UPPER | FLAG_INTERPRETED, "dropped.sh", "/tmp/dropped.sh");
        // when
        ExecEvent e = parse(raw);
        // then
        assertThat(e).isEqualTo(new ExecEvent(101, 100, 99, 1000, 1001, 123_456_789L, "dropped.sh",
                "/tmp/dropped.sh", new FileId(64, 777), new FileId(65024, 888), 4242L, 0xF0000001L,
                new Flags(true, true, false, false), ExecEvent.SourceKind.EBPF, 223_456_789L));
    }

    @Test
    void aFilenameThatIsNotUtf8KeepsItsExactBytes() {
        // given a name with the Latin-1 byte 0xE9, not UTF-8
        ByteBuffer raw = record(FLAG_OVERLAY | FLAG_UPPER, "latin", "/tmp/latin?X");
        raw.put(REC_OFF_FILENAME + "/tmp/latin".length(), (byte) 0xE9);
        // when
        ExecEvent e = parse(raw);
        // then the String maps back to the very bytes the kernel reported
        assertThat(PathBytes.encode(e.filename())).isEqualTo(new byte[] {'/', 't', 'm', 'p', '/', 'l', 'a', 't', 'i',
            'n', (byte) 0xE9, 'X'});
    }

    @Test
    void interpreterIsNoneUnlessTheKernelSaysInterpreted() {
        ExecEvent e = parse(record(FLAG_MEMFD | FLAG_UNLINKED, "true", "/proc/self/fd/3"));
        assertThat(e.interpreter()).isEqualTo(FileId.NONE);
        assertThat(e.flags()).isEqualTo(new Flags(false, false, true, true));
    }

    @Test
    void fullLengthCommWithoutTerminatorIsCutAtSixteenBytes() {
        ExecEvent e = parse(record(0, "abcdefghijklmnop", "/x"));
        assertThat(e.comm()).isEqualTo("abcdefghijklmnop");
    }

    @Test
    void filenameLengthBeyondTheBufferIsClamped() {
        ByteBuffer raw = record(FLAG_FILENAME_TRUNC, "x", "/a");
        raw.putInt(REC_OFF_FILENAME_LEN, -1);
        ExecEvent e = parse(raw);
        assertThat(e.filename()).hasSize(REC_FILENAME_LEN - 1).startsWith("/a");
    }

    @Test
    void shortOrUnknownVersionRecordsAreRejected() {
        ByteBuffer raw = record(0, "x", "/x");
        assertThat(parser.parse(raw, 0, REC_SIZE - 1)).isNull();
        raw.putInt(REC_OFF_VERSION, REC_VERSION + 1);
        assertThat(parser.parse(raw, 0, REC_SIZE)).isNull();
    }
}
