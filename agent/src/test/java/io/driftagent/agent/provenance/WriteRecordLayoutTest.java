package io.driftagent.agent.provenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.RecordHeader;
import io.driftagent.agent.source.ExecEvent.FileId;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WriteRecordLayoutTest {
    @Test
    void javaLayoutConstantsEqualTheHeadersMacrosOneForOne() throws Exception {
        // given the macros of the C header (the single source of the layout)
        Map<String, Long> header = RecordHeader.read("write_record.h", "WRITE").numericMacros();

        // when
        Map<String, Long> java = RecordHeader.intConstantsOf(WriteRecordLayout.class);

        // then
        assertThat(header).hasSizeGreaterThan(20);
        assertThat(java).isEqualTo(header);
    }

    @Test
    void aRecordDecodesItsFileWriterArgvAndRemoteAndABadOneIsRefused() {
        byte[] exe = "/bin/busybox".getBytes(StandardCharsets.UTF_8);
        byte[] argv = "wget\0-O\0/tmp/d\0".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(WriteRecordLayout.REC_HDR_SIZE + exe.length + argv.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(WriteRecordLayout.REC_OFF_KIND, WriteRecordLayout.REC_KIND);
        b.putInt(WriteRecordLayout.REC_OFF_TGID, 321);
        b.putLong(WriteRecordLayout.REC_OFF_START_TIME, 77);
        b.putLong(WriteRecordLayout.REC_OFF_TIMESTAMP, 99);
        b.putInt(WriteRecordLayout.REC_OFF_MNT_NS, 0xF000_0001);
        b.putShort(WriteRecordLayout.REC_OFF_REMOTE_PORT, (short) 8080);
        b.putShort(WriteRecordLayout.REC_OFF_REMOTE_FAMILY, (short) 2);
        b.put(WriteRecordLayout.REC_OFF_REMOTE_ADDR, new byte[] {127, 0, 0, 1});
        b.putLong(WriteRecordLayout.REC_OFF_FILE_DEV, 42);
        b.putLong(WriteRecordLayout.REC_OFF_FILE_INO, 7);
        b.putInt(WriteRecordLayout.REC_OFF_EXE_LEN, exe.length);
        b.putInt(WriteRecordLayout.REC_OFF_ARGV_LEN, argv.length);
        b.put(WriteRecordLayout.REC_HDR_SIZE, exe);
        b.put(WriteRecordLayout.REC_HDR_SIZE + exe.length, argv);

        WriteRecord r = new WriteRecordParser().parse(b, 0, b.capacity());

        assertThat(r).isEqualTo(new WriteRecord(321, 77, 99, 0xF000_0001L, new FileId(42, 7), "/bin/busybox",
                java.util.List.of("wget", "-O", "/tmp/d"), "127.0.0.1:8080", false));
        b.putInt(WriteRecordLayout.REC_OFF_ARGV_LEN, 5000);
        assertThat(new WriteRecordParser().parse(b, 0, b.capacity())).as("lengths past the record").isNull();
    }
}
