package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.provenance.WriteTracking;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.fixture.RecordingSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two objects built from exec.bpf.c, the one whose walks read the kernel with plain loads and the one that reads
 * each field through a helper call, against the real kernel: a process in its own pid and mount namespace (a
 * container's walks: the file's path across mounts, the ancestors, the working directory) gets the same facts
 * from each, and the agent takes the first where the kernel has its kfunc (6.2 and later).
 */
@Tag(TestTiers.KERNEL)
class KernelReadsKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void bothObjectsGiveTheSameFactsAndTheDirectOneIsTakenWhereTheKernelHasItsKfunc() throws Exception {
        // given
        Optional<String> unmet = EbpfPrerequisites.ofThisHost().unmetReason();
        assumeTrue(unmet.isEmpty(), () -> "eBPF kernel test skipped: " + unmet.orElse(""));
        Path binary = dir.resolve("tools").resolve("drift-reads-probe");
        Files.createDirectories(binary.getParent());
        Files.copy(Path.of("/bin/true"), binary, StandardCopyOption.COPY_ATTRIBUTES);
        Path cwd = Files.createDirectories(dir.resolve("work").resolve("here"));

        // when
        ExecEvent direct = execObservedBy(true, binary, cwd, BpfExecProgram.KernelReads.DIRECT_LOADS);
        ExecEvent helper = execObservedBy(false, binary, cwd, BpfExecProgram.KernelReads.HELPER_CALLS);

        // then
        for (ExecEvent e : new ExecEvent[] {direct, helper}) {
            assertThat(e.kernel().path()).isEqualTo(binary.toRealPath().toString());
            assertThat(e.kernel().lineage().cwd()).isEqualTo(cwd.toRealPath().toString());
            assertThat(e.kernel().argv()).hasSize(2).first().isEqualTo(binary.toString());
            assertThat(e.kernel().lineage().known()).isTrue();
            assertThat(e.kernel().lineage().ancestors()).hasSize(1);
            assertThat(e.kernel().lineage().leaderNsPid()).isEqualTo(1);
            // credentials, audit ids and the parent, read from the task (plain loads in the direct object)
            assertThat(e.kernel().euid()).isEqualTo(0);
            assertThat(e.kernel().egid()).isEqualTo(0);
            assertThat(e.kernel().parentComm()).isEqualTo("sh");
            assertThat(e.kernel().lineage().parentStartTimeNs()).isPositive();
            assertThat(e.kernel().lineage().leader()).isNotNull();
            assertThat(e.kernel().lineage().leader().startTimeNs()).isEqualTo(e.kernel().lineage().parentStartTimeNs());
        }
        assertThat(direct.kernel().loginUid()).isEqualTo(helper.kernel().loginUid());
        assertThat(direct.kernel().sessionId()).isEqualTo(helper.kernel().sessionId());
        assertThat(helper.kernel().lineage().ancestors().get(0).tgid())
                .isNotEqualTo(direct.kernel().lineage().ancestors().get(0).tgid());
    }

    @Test
    void aDirectReadsObjectTheKernelRefusesFallsBackToTheHelperReadsOne() throws Exception {
        // given a first object no kernel loads (what a kernel without the kfunc makes of the real one)
        Optional<String> unmet = EbpfPrerequisites.ofThisHost().unmetReason();
        assumeTrue(unmet.isEmpty(), () -> "eBPF kernel test skipped: " + unmet.orElse(""));
        ExecObjects objects = new ExecObjects("not an ELF object".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                EbpfPrerequisites.readObject(EbpfPrerequisites.HELPER_READS_OBJECT_RESOURCE));

        // when
        try (BpfExecProgram program = BpfExecProgram.load(LibbpfBindings.get(), objects, ProgramChoice.AUTO,
                EbpfExecSource.Config.DEFAULT_RING_BUFFER_BYTES, true, WriteTracking.NONE)) {
            // then
            assertThat(program.kernelReads()).isEqualTo(BpfExecProgram.KernelReads.HELPER_CALLS);
            assertThat(program.attachment()).isEqualTo(ExecAttachment.TP_BTF);
            assertThat(program.libraryAttached()).isTrue();
        }
    }

    /** Runs the binary from a shell that is pid 1 of a new pid namespace, under a source on the given object. */
    private ExecEvent execObservedBy(boolean directReads, Path binary, Path cwd,
            BpfExecProgram.KernelReads expected) throws Exception {
        RecordingSink sink = new RecordingSink();
        try (EbpfExecSource source = new EbpfExecSource(EbpfExecSource.Config.defaults(),
                EbpfPrerequisites.ofThisHost(), WriteTracking.NONE, directReads)) {
            source.start(sink);
            assertThat(source.kernelReads()).contains(kernelHasRdonlyCast() ? expected
                    : BpfExecProgram.KernelReads.HELPER_CALLS);
            String marker = "marker-" + UUID.randomUUID();
            Process p = new ProcessBuilder("unshare", "--pid", "--mount", "--fork", "--mount-proc", "/bin/sh", "-c",
                    "cd '" + cwd + "' && '" + binary + "' " + marker + "; exit 0").inheritIO().start();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            return sink.await(e -> e.kernel().argv().contains(marker), WAIT, "the probe's exec");
        }
    }

    /** bpf_rdonly_cast came with kernel 6.2: this machine kind runs a newer one, so the direct object must load. */
    private static boolean kernelHasRdonlyCast() throws java.io.IOException {
        String[] release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim().split("[.-]");
        int major = Integer.parseInt(release[0]);
        int minor = Integer.parseInt(release[1]);
        return major > 6 || major == 6 && minor >= 2;
    }
}
