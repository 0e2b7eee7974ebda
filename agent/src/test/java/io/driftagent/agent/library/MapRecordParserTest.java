package io.driftagent.agent.library;

import static io.driftagent.agent.library.MapRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MapRecordParserTest {

    private final MapRecordParser parser = new MapRecordParser();

    @Test
    void aRecordBecomesALibraryLoadEventWhoseFileIsTheMappedLibraryAndWhoseExeIsTheProcesss() {
        // given a record of /tmp/evil.so mapped by /usr/bin/app, argv "/usr/bin/app" "x", in the writable layer
        ByteBuffer raw = record(FLAG_OVERLAY | FLAG_UPPER, "/tmp/evil.so", "/usr/bin/app", "/usr/bin/app\0x\0", 8);

        // when
        ExecEvent event = parser.parse(raw, 8, raw.capacity() - 8);

        // then
        assertThat(event).isNotNull();
        assertThat(event.trigger()).isEqualTo(ExecEvent.Trigger.LIBRARY_LOAD);
        assertThat(event.isLibraryLoad()).isTrue();
        assertThat(event.filename()).isEqualTo("/tmp/evil.so");
        assertThat(event.kernel().path()).isEqualTo("/tmp/evil.so");
        assertThat(event.kernel().pathExact()).isTrue();
        assertThat(event.processExe()).isEqualTo("/usr/bin/app");
        assertThat(event.kernel().argv()).containsExactly("/usr/bin/app", "x");
        assertThat(event.file()).isEqualTo(new ExecEvent.FileId(0x801, 4242));
        assertThat(event.flags()).isEqualTo(new ExecEvent.Flags(true, true, false, false));
        assertThat(event.interpreter()).isEqualTo(ExecEvent.FileId.NONE);
        assertThat(event.pid()).isEqualTo(101);
        assertThat(event.tgid()).isEqualTo(100);
        assertThat(event.ppid()).isEqualTo(99);
        assertThat(event.startTimeNs()).isEqualTo(123_456_789L);
        assertThat(event.cgroupId()).isEqualTo(77);
        assertThat(event.mountNsId()).isEqualTo(4026532000L);
        assertThat(event.comm()).isEqualTo("app");
        assertThat(event.source()).isEqualTo(ExecEvent.SourceKind.EBPF);
    }

    @Test
    void aMemfdMappingIsFlaggedAndAnExePathCutByTheKernelIsUnknown() {
        ByteBuffer raw = record(FLAG_MEMFD | FLAG_UNLINKED | FLAG_PATH_OUTSIDE_ROOT | FLAG_EXE_PATH_TRUNC,
                "/memfd:x", "in/app", "", 0);

        ExecEvent event = parser.parse(raw, 0, raw.capacity());

        assertThat(event.flags().memfd()).isTrue();
        assertThat(event.flags().unlinked()).isTrue();
        assertThat(event.kernel().pathOutsideRoot()).isTrue();
        assertThat(event.processExe()).isNull();
        assertThat(event.kernel().argvKnown()).isFalse();
    }

    @Test
    void aRecordTooShortForItsSectionsOrNotAMappingRecordIsRejected() {
        ByteBuffer raw = record(0, "/tmp/evil.so", "/usr/bin/app", "a\0", 0);
        assertThat(parser.parse(raw, 0, raw.capacity() - 1)).as("a section cut").isNull();
        assertThat(parser.parse(raw, 0, REC_HDR_SIZE - 1)).as("a header cut").isNull();
        raw.putInt(HEAD_OFF_KIND, 2); // an exec record's version
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
        raw.putInt(HEAD_OFF_KIND, REC_MAGIC);
        raw.putInt(REC_OFF_PATH_LEN, REC_PATH_MAX + 1);
        assertThat(parser.parse(raw, 0, raw.capacity())).as("a length over its bound").isNull();
    }

    @Test
    void moreArgumentsThanTheBoundKeepExactlyTheBoundAndAreFlagged() {
        // given 65 complete one-letter arguments, no kernel flag
        ByteBuffer raw = record(0, "/tmp/evil.so", "/usr/bin/app", arguments(MapRecordParser.MAX_ARGS + 1), 0);

        // when
        ExecEvent.KernelFacts k = parser.parse(raw, 0, raw.capacity()).kernel();

        // then
        assertThat(k.argv()).hasSize(MapRecordParser.MAX_ARGS);
        assertThat(k.argv().get(MapRecordParser.MAX_ARGS - 1)).isEqualTo(letter(MapRecordParser.MAX_ARGS - 1));
        assertThat(k.argvTruncated()).isTrue();
    }

    @Test
    void exactlyTheBoundOfArgumentsIsKeptWholeAndNotFlagged() {
        ByteBuffer raw = record(0, "/tmp/evil.so", "/usr/bin/app", arguments(MapRecordParser.MAX_ARGS), 0);

        ExecEvent.KernelFacts k = parser.parse(raw, 0, raw.capacity()).kernel();

        assertThat(k.argv()).hasSize(MapRecordParser.MAX_ARGS);
        assertThat(k.argvTruncated()).isFalse();
    }

    @Test
    void anArgvCutByTheKernelKeepsItsPartialLastArgumentAndIsFlagged() {
        ByteBuffer raw = record(FLAG_ARGV_TRUNC, "/tmp/evil.so", "/usr/bin/app", "sh\0-c\0echo aa", 0);

        ExecEvent.KernelFacts k = parser.parse(raw, 0, raw.capacity()).kernel();

        assertThat(k.argv()).containsExactly("sh", "-c", "echo aa");
        assertThat(k.argvTruncated()).isTrue();
    }

    @Test
    void anArgumentThatIsNotUtf8ShowsTheReplacementCharacter() {
        // given the argument "latin" 0xE9 "X" (Latin-1, not UTF-8) and a last argument cut inside "é" (0xC3 0xA9)
        ByteBuffer raw = record(FLAG_ARGV_TRUNC, "/tmp/evil.so", "/usr/bin/app", "", 0);
        byte[] argv = {'l', 'a', 't', 'i', 'n', (byte) 0xE9, 'X', 0, 'c', 'a', 'f', (byte) 0xC3};
        raw = withArgv(raw, argv);

        ExecEvent.KernelFacts k = parser.parse(raw, 0, raw.capacity()).kernel();

        assertThat(k.argv()).containsExactly("latin\uFFFDX", "caf\uFFFD");
    }

    @Test
    void anEmptyArgvIsUnknownAndNotFlagged() {
        ByteBuffer raw = record(0, "/tmp/evil.so", "/usr/bin/app", "", 0);

        ExecEvent.KernelFacts k = parser.parse(raw, 0, raw.capacity()).kernel();

        assertThat(k.argv()).isEmpty();
        assertThat(k.argvKnown()).isFalse();
        assertThat(k.argvTruncated()).isFalse();
    }

    private static String arguments(int count) {
        StringBuilder args = new StringBuilder();
        for (int i = 0; i < count; i++) {
            args.append(letter(i)).append('\0');
        }
        return args.toString();
    }

    private static String letter(int i) {
        return String.valueOf((char) ('a' + i % 26));
    }

    /** The record with its (empty) argv section replaced by {@code argv}. */
    private static ByteBuffer withArgv(ByteBuffer raw, byte[] argv) {
        ByteBuffer b = ByteBuffer.allocate(raw.capacity() + argv.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, raw, 0, raw.capacity());
        b.putInt(REC_OFF_ARGV_LEN, argv.length);
        b.put(raw.capacity(), argv);
        return b;
    }

    private static ByteBuffer record(int flags, String path, String exe, String argv, int offset) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        byte[] e = exe.getBytes(StandardCharsets.UTF_8);
        byte[] a = argv.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(offset + REC_HDR_SIZE + p.length + e.length + a.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer r = b.slice(offset, b.capacity() - offset).order(ByteOrder.LITTLE_ENDIAN);
        r.putInt(HEAD_OFF_KIND, REC_MAGIC);
        r.putInt(HEAD_OFF_FLAGS, flags);
        r.putInt(HEAD_OFF_PID, 101);
        r.putInt(HEAD_OFF_TGID, 100);
        r.putInt(HEAD_OFF_PPID, 99);
        r.putInt(HEAD_OFF_MNT_NS, (int) 4026532000L);
        r.putLong(HEAD_OFF_START_TIME, 123_456_789L);
        r.putLong(HEAD_OFF_CGROUP_ID, 77);
        r.putLong(HEAD_OFF_FILE_DEV, 0x801);
        r.putLong(HEAD_OFF_FILE_INO, 4242);
        r.putInt(REC_OFF_PATH_LEN, p.length);
        r.putInt(REC_OFF_EXE_PATH_LEN, e.length);
        r.putInt(REC_OFF_ARGV_LEN, a.length);
        r.put(REC_OFF_COMM, "app".getBytes(StandardCharsets.US_ASCII));
        r.put(REC_HDR_SIZE, p);
        r.put(REC_HDR_SIZE + p.length, e);
        r.put(REC_HDR_SIZE + p.length + e.length, a);
        return b;
    }
}
