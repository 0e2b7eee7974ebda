package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.source.ebpf.ExecRecordLayout.*;
import static io.driftagent.agent.ring.RecordHeadLayout.*;
import static io.driftagent.agent.source.ebpf.ExecRecords.record;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import io.driftagent.agent.source.ExecEvent.KernelFacts;
import io.driftagent.agent.source.ExecEvent.Lineage;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExecRecordParserTest {
    /** What a record with every lineage field zero says: known, and empty. */
    private static final Lineage NO_ANCESTORS = new Lineage(true, 0, List.of(), null, 0, false, null, false);

    private final ExecRecordParser parser = new ExecRecordParser();

    /** Parses a record that sits at offset 8 of a larger direct buffer, as in the mapped ring. */
    private ExecEvent parse(ByteBuffer record) {
        ByteBuffer ring = ByteBuffer.allocateDirect(record.capacity() + 16).order(ByteOrder.LITTLE_ENDIAN);
        ring.put(8, record, 0, record.capacity());
        ExecEvent e = parser.parse(ring, 8, record.capacity());
        assertThat(e).isNotNull();
        return e;
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
                new Flags(true, true, false, false), ExecEvent.SourceKind.EBPF, 223_456_789L,
                new KernelFacts(null, false, false, false, List.of(), false, -1, 0, 1001, -1, -1, "sh",
                        NO_ANCESTORS)));
    }

    @Test
    void aFilenameThatIsNotUtf8KeepsItsExactBytes() {
        // given a name with the Latin-1 byte 0xE9, not UTF-8
        ByteBuffer raw = record(FLAG_OVERLAY | FLAG_UPPER, "latin", "/tmp/latin?X");
        raw.put(REC_HDR_SIZE + "/tmp/latin".length(), (byte) 0xE9);
        // when
        ExecEvent e = parse(raw);
        // then the String maps back to the very bytes the kernel reported
        assertThat(PathBytes.encode(e.filename())).isEqualTo(new byte[] {'/', 't', 'm', 'p', '/', 'l', 'a', 't', 'i',
            'n', (byte) 0xE9, 'X'});
    }

    @Test
    void anExecSentAtItsProcesssForkIsNamedByItsFilesPath() {
        // given a record of an exec kept in the kernel until its process forked: no name as exec'd, its file's path
        byte[] path = "/usr/bin/sh".getBytes(StandardCharsets.UTF_8);
        ExecEvent e = parse(record(FLAG_OVERLAY | FLAG_SENT_AT_FORK, "sh", new byte[0], path,
                "sh\0-c\0true\0".getBytes(StandardCharsets.UTF_8)));
        assertThat(e.filename()).isEqualTo("/usr/bin/sh");
        assertThat(e.kernel().path()).isEqualTo("/usr/bin/sh");
        assertThat(e.kernel().argv()).containsExactly("sh", "-c", "true");
        // without the flag an empty name stays empty
        assertThat(parse(record(FLAG_OVERLAY, "sh", new byte[0], path, new byte[0])).filename()).isEmpty();
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
    void aFilenameLengthBeyondItsBoundIsMalformed() {
        ByteBuffer raw = record(FLAG_FILENAME_TRUNC, "x", "/a");
        raw.putInt(REC_OFF_FILENAME_LEN, -1);
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
        raw.putInt(REC_OFF_FILENAME_LEN, REC_FILENAME_MAX + 1);
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
    }

    @Test
    void sectionsLongerThanTheRecordAreMalformed() {
        // given a header that claims more argv bytes than the record carries
        ByteBuffer raw = record(0, "x", "/a".getBytes(StandardCharsets.UTF_8), "/a".getBytes(StandardCharsets.UTF_8),
                "a\0".getBytes(StandardCharsets.UTF_8));
        raw.putInt(REC_OFF_ARGV_LEN, 3);
        // then
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
    }

    @Test
    void decodesTheKernelPathArgvAndCredentials() {
        // given the path of an fexecve'd file, argv with three arguments, euid 0 of a setuid file, an audit session
        byte[] argv = "/tmp/fx\0--flag\0a b\0".getBytes(StandardCharsets.UTF_8);
        ByteBuffer raw = record(FLAG_OVERLAY | FLAG_UPPER, "3", "/dev/fd/3".getBytes(StandardCharsets.UTF_8),
                "/tmp/fx".getBytes(StandardCharsets.UTF_8), argv);
        raw.putInt(REC_OFF_ARGC, 3);
        raw.putInt(REC_OFF_LOGINUID, 1000);
        raw.putInt(REC_OFF_SESSIONID, 7);
        // when
        KernelFacts k = parse(raw).kernel();
        // then
        assertThat(k).isEqualTo(new KernelFacts("/tmp/fx", false, false, false, List.of("/tmp/fx", "--flag", "a b"),
                false, 3, 0, 1001, 1000, 7, "sh", NO_ANCESTORS));
        assertThat(k.pathExact()).isTrue();
    }

    @Test
    void truncationFlagsReachTheEventAndATruncatedPathIsNotExact() {
        // given the kernel's flags: path cut (a tail), argv cut inside its last argument
        byte[] argv = "sh\0-c\0echo aaaa".getBytes(StandardCharsets.UTF_8);
        ByteBuffer raw = record(FLAG_PATH_TRUNC | FLAG_ARGV_TRUNC | FLAG_PATH_OTHER_MOUNT, "x",
                "/x".getBytes(StandardCharsets.UTF_8), "/deep/tail".getBytes(StandardCharsets.UTF_8), argv);
        raw.putInt(REC_OFF_ARGC, 3);
        // when
        KernelFacts k = parse(raw).kernel();
        // then
        assertThat(k.pathTruncated()).isTrue();
        assertThat(k.pathExact()).isFalse();
        assertThat(k.otherMount()).isTrue();
        assertThat(k.argvTruncated()).isTrue();
        assertThat(k.argv()).containsExactly("sh", "-c", "echo aaaa");
    }

    @Test
    void aPathOutsideTheRootIsNotExact() {
        ByteBuffer raw = record(FLAG_PATH_OUTSIDE_ROOT | FLAG_MEMFD | FLAG_UNLINKED, "x",
                "/proc/self/fd/3".getBytes(StandardCharsets.UTF_8), "/memfd:x".getBytes(StandardCharsets.UTF_8),
                new byte[0]);
        KernelFacts k = parse(raw).kernel();
        assertThat(k.path()).isEqualTo("/memfd:x");
        assertThat(k.pathOutsideRoot()).isTrue();
        assertThat(k.pathExact()).isFalse();
    }

    @Test
    void moreThanSixtyFourArgumentsKeepSixtyFourAndAreFlagged() {
        // given 70 one-byte arguments that fit the kernel's bytes (no kernel flag)
        StringBuilder args = new StringBuilder();
        for (int i = 0; i < 70; i++) {
            args.append((char) ('a' + i % 26)).append('\0');
        }
        ByteBuffer raw = record(0, "x", "/x".getBytes(StandardCharsets.UTF_8), new byte[0],
                args.toString().getBytes(StandardCharsets.UTF_8));
        raw.putInt(REC_OFF_ARGC, 70);
        // when
        KernelFacts k = parse(raw).kernel();
        // then
        assertThat(k.argv()).hasSize(ExecRecordParser.MAX_ARGS);
        assertThat(k.argvTruncated()).isTrue();
    }

    @Test
    void exactlyTheBoundOfArgumentsIsKeptWholeAndNotFlagged() {
        StringBuilder args = new StringBuilder();
        for (int i = 0; i < ExecRecordParser.MAX_ARGS; i++) {
            args.append((char) ('a' + i % 26)).append('\0');
        }
        ByteBuffer raw = record(0, "x", "/x".getBytes(StandardCharsets.UTF_8), new byte[0],
                args.toString().getBytes(StandardCharsets.UTF_8));
        raw.putInt(REC_OFF_ARGC, ExecRecordParser.MAX_ARGS);

        KernelFacts k = parse(raw).kernel();

        assertThat(k.argv()).hasSize(ExecRecordParser.MAX_ARGS);
        assertThat(k.argvTruncated()).isFalse();
    }

    @Test
    void anArgumentThatIsNotUtf8ShowsTheReplacementCharacter() {
        // given the argument "latin" 0xE9 "X" (Latin-1, not UTF-8) and a last argument cut inside "é" (0xC3 0xA9)
        byte[] argv = {'l', 'a', 't', 'i', 'n', (byte) 0xE9, 'X', 0, 'c', 'a', 'f', (byte) 0xC3};
        ByteBuffer raw = record(FLAG_ARGV_TRUNC, "x", "/x".getBytes(StandardCharsets.UTF_8), new byte[0], argv);

        KernelFacts k = parse(raw).kernel();

        assertThat(k.argv()).containsExactly("latin\uFFFDX", "caf\uFFFD");
        assertThat(k.argvTruncated()).isTrue();
    }

    @Test
    void anEmptyArgvIsUnknownAndNotFlagged() {
        ByteBuffer raw = record(0, "x", "/x".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[0]);

        KernelFacts k = parse(raw).kernel();

        assertThat(k.argvKnown()).isFalse();
        assertThat(k.argvTruncated()).isFalse();
    }

    @Test
    void fewerArgumentsThanArgcMeansTruncated() {
        ByteBuffer raw = record(0, "x", "/x".getBytes(StandardCharsets.UTF_8), new byte[0],
                "a\0b\0".getBytes(StandardCharsets.UTF_8));
        raw.putInt(REC_OFF_ARGC, 3);
        assertThat(parse(raw).kernel().argvTruncated()).isTrue();
        raw.putInt(REC_OFF_ARGC, 2);
        assertThat(parse(raw).kernel().argvTruncated()).isFalse();
    }

    @Test
    void decodesAncestorsNearestFirstTheSessionLeaderAndTheWorkingDirectory() {
        // given a process two levels below an exec session's shell (ns pid 7), started in /tmp/work
        ByteBuffer raw = record(0, "drop", "/tmp/drop".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[0],
                "/tmp/work".getBytes(StandardCharsets.UTF_8));
        raw.putLong(REC_OFF_PARENT_START_TIME, 5_000L);
        raw.putInt(REC_OFF_ANCESTOR_COUNT, 2);
        raw.putInt(REC_OFF_ANCESTOR_TGID, 99);
        raw.putLong(REC_OFF_ANCESTOR_START, 5_000L);
        raw.putInt(REC_OFF_ANCESTOR_TGID + 4, 98);
        raw.putLong(REC_OFF_ANCESTOR_START + 8, 4_000L);
        raw.putInt(REC_OFF_LEADER_TGID, 98);
        raw.putLong(REC_OFF_LEADER_START_TIME, 4_000L);
        raw.putInt(REC_OFF_LEADER_NS_PID, 7);
        // when
        Lineage lineage = parse(raw).kernel().lineage();
        // then
        assertThat(lineage).isEqualTo(new Lineage(true, 5_000L,
                List.of(new ProcessKey(99, 5_000L), new ProcessKey(98, 4_000L)), new ProcessKey(98, 4_000L), 7, false,
                "/tmp/work", false));
    }

    @Test
    void aHostProcessOrAnUnknownChainHasNoLeaderAndACwdOutsideTheRootIsNotReported() {
        ByteBuffer raw = record(FLAG_HOST_PIDNS | FLAG_CWD_OUTSIDE_ROOT, "x", "/x".getBytes(StandardCharsets.UTF_8),
                new byte[0], new byte[0], "/var/lib".getBytes(StandardCharsets.UTF_8));
        raw.putInt(REC_OFF_LEADER_TGID, 1);
        Lineage host = parse(raw).kernel().lineage();
        assertThat(host.hostPidNamespace()).isTrue();
        assertThat(host.leader()).isNull();
        assertThat(host.cwd()).isNull();

        raw.putInt(HEAD_OFF_FLAGS, FLAG_LINEAGE_UNKNOWN | FLAG_CWD_TRUNC);
        Lineage unknown = parse(raw).kernel().lineage();
        assertThat(unknown.leader()).isNull();
        assertThat(unknown.cwdTruncated()).isTrue();
    }

    @Test
    void moreAncestorsThanTheRecordHoldsOrACwdBeyondTheRecordAreMalformed() {
        ByteBuffer raw = record(0, "x", "/x".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[0],
                "/w".getBytes(StandardCharsets.UTF_8));
        raw.putInt(REC_OFF_ANCESTOR_COUNT, REC_ANCESTORS_MAX + 1);
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
        raw.putInt(REC_OFF_ANCESTOR_COUNT, 0);
        raw.putInt(REC_OFF_CWD_LEN, 3);
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
    }

    @Test
    void kernelWithoutAuditReportsUnknownIds() {
        ByteBuffer raw = record(FLAG_AUDIT_UNKNOWN, "x", "/x");
        raw.putInt(REC_OFF_LOGINUID, 0);
        raw.putInt(REC_OFF_SESSIONID, 0);
        KernelFacts k = parse(raw).kernel();
        assertThat(k.loginUid()).isEqualTo(-1);
        assertThat(k.sessionId()).isEqualTo(-1);
    }

    @Test
    void shortOrUnknownVersionRecordsAreRejected() {
        ByteBuffer raw = record(0, "x", "/x");
        assertThat(parser.parse(raw, 0, raw.capacity() - 1)).isNull();
        assertThat(parser.parse(raw, 0, REC_HDR_SIZE - 1)).isNull();
        raw.putInt(HEAD_OFF_KIND, REC_VERSION + 1);
        assertThat(parser.parse(raw, 0, raw.capacity())).isNull();
    }
}
