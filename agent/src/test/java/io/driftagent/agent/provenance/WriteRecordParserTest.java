package io.driftagent.agent.provenance;

import static io.driftagent.agent.ring.RecordHeadLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent.FileId;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriteRecordParserTest {

    private final WriteRecordParser parser = new WriteRecordParser();

    @Test
    void aRecordDecodesItsFileWriterArgvAndRemoteAndABadOneIsRefused() {
        ByteBuffer raw = record("wget\0-O\0/tmp/d\0".getBytes(StandardCharsets.UTF_8));

        WriteRecord r = parser.parse(raw, 8, raw.capacity() - 8);

        assertThat(r).isEqualTo(new WriteRecord(321, 77, 99, 0xF000_0001L, new FileId(42, 7), "/bin/busybox",
                List.of("wget", "-O", "/tmp/d"), "127.0.0.1:8080", false));
        raw.putInt(8 + WriteRecordLayout.REC_OFF_ARGV_LEN, 5000);
        assertThat(parser.parse(raw, 8, raw.capacity() - 8)).as("lengths past the record").isNull();
    }

    @Test
    void moreArgumentsThanTheBoundKeepExactlyTheBound() {
        // given a writer with 65 complete arguments
        ByteBuffer raw = record(arguments(WriteRecordParser.MAX_ARGS + 1));

        // when
        WriteRecord r = parser.parse(raw, 8, raw.capacity() - 8);

        // then
        assertThat(r.argv()).hasSize(WriteRecordParser.MAX_ARGS);
        assertThat(r.argv().get(WriteRecordParser.MAX_ARGS - 1)).isEqualTo(letter(WriteRecordParser.MAX_ARGS - 1));
    }

    @Test
    void exactlyTheBoundOfArgumentsIsKeptWhole() {
        ByteBuffer raw = record(arguments(WriteRecordParser.MAX_ARGS));

        WriteRecord r = parser.parse(raw, 8, raw.capacity() - 8);

        assertThat(r.argv()).hasSize(WriteRecordParser.MAX_ARGS);
        assertThat(r.argv().get(0)).isEqualTo("a");
    }

    @Test
    void anArgvCutByTheKernelKeepsItsPartialLastArgument() {
        ByteBuffer raw = record("wget\0-O\0/tmp/do".getBytes(StandardCharsets.UTF_8));

        WriteRecord r = parser.parse(raw, 8, raw.capacity() - 8);

        assertThat(r.argv()).containsExactly("wget", "-O", "/tmp/do");
    }

    @Test
    void anArgumentThatIsNotUtf8ShowsTheReplacementCharacterAsTheExecsArgvDoes() {
        // given the argument "latin" 0xE9 "X" (Latin-1, not UTF-8) and a last argument cut inside "é" (0xC3 0xA9)
        ByteBuffer raw = record(new byte[] {'l', 'a', 't', 'i', 'n', (byte) 0xE9, 'X', 0, 'c', 'a', 'f', (byte) 0xC3});

        WriteRecord r = parser.parse(raw, 8, raw.capacity() - 8);

        assertThat(r.argv()).containsExactly("latin\uFFFDX", "caf\uFFFD");
    }

    @Test
    void anEmptyArgvIsEmptyAndOneEmptyArgumentIsKept() {
        assertThat(parser.parse(record(new byte[0]), 8, record(new byte[0]).capacity() - 8).argv()).isEmpty();
        ByteBuffer oneEmpty = record(new byte[] {0});
        assertThat(parser.parse(oneEmpty, 8, oneEmpty.capacity() - 8).argv()).containsExactly("");
    }

    /**
     * A write record of /bin/busybox (pid 321, connected to 127.0.0.1:8080) opening file 42/7, with {@code argv}, at
     * offset 8 of a larger buffer, as in the mapped ring.
     */
    private static ByteBuffer record(byte[] argv) {
        byte[] exe = "/bin/busybox".getBytes(StandardCharsets.UTF_8);
        ByteBuffer ring = ByteBuffer.allocate(8 + WriteRecordLayout.REC_HDR_SIZE + exe.length + argv.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer b = ring.slice(8, ring.capacity() - 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(HEAD_OFF_KIND, WriteRecordLayout.REC_KIND);
        b.putInt(HEAD_OFF_TGID, 321);
        b.putLong(HEAD_OFF_START_TIME, 77);
        b.putLong(HEAD_OFF_TIMESTAMP, 99);
        b.putInt(HEAD_OFF_MNT_NS, 0xF000_0001);
        b.putShort(WriteRecordLayout.REC_OFF_REMOTE_PORT, (short) 8080);
        b.putShort(WriteRecordLayout.REC_OFF_REMOTE_FAMILY, (short) 2);
        b.put(WriteRecordLayout.REC_OFF_REMOTE_ADDR, new byte[] {127, 0, 0, 1});
        b.putLong(HEAD_OFF_FILE_DEV, 42);
        b.putLong(HEAD_OFF_FILE_INO, 7);
        b.putInt(WriteRecordLayout.REC_OFF_EXE_LEN, exe.length);
        b.putInt(WriteRecordLayout.REC_OFF_ARGV_LEN, argv.length);
        b.put(WriteRecordLayout.REC_HDR_SIZE, exe);
        b.put(WriteRecordLayout.REC_HDR_SIZE + exe.length, argv);
        return ring;
    }

    private static byte[] arguments(int count) {
        StringBuilder args = new StringBuilder();
        for (int i = 0; i < count; i++) {
            args.append(letter(i)).append('\0');
        }
        return args.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String letter(int i) {
        return String.valueOf((char) ('a' + i % 26));
    }
}
