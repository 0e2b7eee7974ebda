package io.driftagent.agent.provenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WriteOriginsTest {

    private final AtomicLong now = new AtomicLong(1_000);

    private WriteOrigins store(int perContainer, int total) {
        WriteOrigins origins = new WriteOrigins(new WriteOrigins.Limits(perContainer, total, 100, Duration.ofNanos(50)),
                true, now::get);
        origins.started();
        return origins;
    }

    private static WriteRecord write(int tgid, long mountNs, long ino, long at) {
        return new WriteRecord(tgid, 77, at, mountNs, new FileId(42, ino), "/bin/cp", List.of("cp", "a", "b"), null,
                false);
    }

    private static ExecEvent exec(ExecEvent.SourceKind source, long at, int tgid, String path, List<String> argv) {
        return new ExecEvent(tgid, tgid, 1, 0, 0, 77, "x", path, new FileId(42, 1), ExecEvent.FileId.NONE, 0, 9,
                ExecEvent.Flags.NONE, source, at, new ExecEvent.KernelFacts(path, false, false, false, argv, false,
                argv.size(), 0, 0, -1, -1, null));
    }

    private static ExecEvent execAt(long at) {
        return exec(ExecEvent.SourceKind.EBPF, at, 999, "/tmp/x", List.of("/tmp/x"));
    }

    @Test
    void aWrittenFileIsAnsweredWithItsWriter() {
        WriteOrigins origins = store(10, 100);
        origins.accept(write(5, 1, 1, 100));

        WriteOrigin origin = origins.originOf(execAt(200), new FileId(42, 1));

        assertThat(origin.known()).isTrue();
        assertThat(origin.pid()).isEqualTo(5);
        assertThat(origin.cmdline()).containsExactly("cp", "a", "b");
        assertThat(origin.timestampNs()).isEqualTo(100);
    }

    @Test
    void aContainerWritingMoreThanItsBoundLosesItsOldestFilesWithTheEvictedReasonAndACount() {
        WriteOrigins origins = store(3, 100);
        for (long ino = 1; ino <= 5; ino++) {
            origins.accept(write(5, 1, ino, 100 + ino));
        }
        origins.accept(write(6, 2, 100, 300)); // another container is not touched

        assertThat(origins.size()).isEqualTo(4);
        assertThat(origins.stats()).containsEntry("evicted_container", 2L).containsEntry("evicted_node", 0L);
        assertThat(origins.originOf(execAt(400), new FileId(42, 1)).unknown()).isEqualTo(OriginUnknown.EVICTED_CONTAINER);
        assertThat(origins.originOf(execAt(400), new FileId(42, 3)).known()).isTrue();
        assertThat(origins.originOf(execAt(400), new FileId(42, 100)).known()).isTrue();
    }

    @Test
    void theNodeBoundEvictsTheOldestFileOfAnyContainer() {
        WriteOrigins origins = store(10, 2);
        origins.accept(write(5, 1, 1, 100));
        origins.accept(write(6, 2, 2, 101));
        origins.accept(write(7, 3, 3, 102));

        assertThat(origins.size()).isEqualTo(2);
        assertThat(origins.stats()).containsEntry("evicted_node", 1L);
        assertThat(origins.originOf(execAt(400), new FileId(42, 1)).unknown()).isEqualTo(OriginUnknown.EVICTED_NODE);
    }

    @Test
    void aFileNeverWrittenSaysSoAndAFanotifyExecSaysItsSourceTracksNoWrites() {
        WriteOrigins origins = store(10, 100);
        origins.accept(write(5, 1, 1, 100));

        assertThat(origins.originOf(execAt(400), new FileId(42, 9)).unknown()).isEqualTo(OriginUnknown.NOT_SEEN);
        assertThat(origins.originOf(exec(ExecEvent.SourceKind.FANOTIFY, 400, 1, "/tmp/x", List.of()),
                new FileId(42, 1)).unknown()).isEqualTo(OriginUnknown.FANOTIFY);
    }

    @Test
    void withoutTheKernelSideEveryAnswerSaysTrackingIsUnavailable() {
        WriteOrigins origins = new WriteOrigins(WriteOrigins.Limits.defaults(), true, now::get);
        origins.unavailable("test");

        assertThat(origins.originOf(execAt(400), new FileId(42, 1)).unknown()).isEqualTo(OriginUnknown.UNAVAILABLE);
    }

    @Test
    void aWriterThatExecsAnotherProgramIsNamedByItsLatestImage() {
        WriteOrigins origins = store(10, 100);
        origins.accept(write(5, 1, 1, 100));

        origins.onExec(exec(ExecEvent.SourceKind.EBPF, 150, 5, "/bin/busybox", List.of("cat", "/bin/busybox")));

        WriteOrigin origin = origins.originOf(execAt(200), new FileId(42, 1));
        assertThat(origin.exe()).isEqualTo("/bin/busybox");
        assertThat(origin.cmdline()).containsExactly("cat", "/bin/busybox");
    }

    @Test
    void aRemoteUpdateAfterTheOpenIsTheWritersRemote() {
        WriteOrigins origins = store(10, 100);
        origins.accept(write(5, 1, 1, 100));

        origins.accept(new WriteRecord(5, 77, 120, 1, FileId.NONE, null, List.of(), "127.0.0.1:8080", true));

        assertThat(origins.originOf(execAt(200), new FileId(42, 1)).remote()).isEqualTo("127.0.0.1:8080");
    }

    @Test
    void anEndedContainersFilesAreForgottenAfterTheGraceAndTheirWritersWithThem() {
        WriteOrigins origins = store(10, 100);
        origins.accept(write(5, 1, 1, 100));

        origins.containerGone(1);
        assertThat(origins.originOf(execAt(900), new FileId(42, 1)).known()).as("within the grace").isTrue();
        now.addAndGet(100);
        origins.containerGone(1);

        assertThat(origins.size()).isZero();
        assertThat(origins.stats()).containsEntry("forgotten", 1L);
        assertThat(origins.originOf(execAt(2_000), new FileId(42, 1)).unknown()).isEqualTo(OriginUnknown.NOT_SEEN);
    }
}
