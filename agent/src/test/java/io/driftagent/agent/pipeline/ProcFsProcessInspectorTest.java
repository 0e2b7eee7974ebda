package io.driftagent.agent.pipeline;

import static io.driftagent.agent.pipeline.PipelineFakes.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcFsProcessInspectorTest {

    @TempDir
    Path proc;

    @Test
    void readsExeCmdlineAndParentExeOfALiveProcess() {
        long self = ProcessHandle.current().pid();
        long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElseThrow();

        ProcessSnapshot snapshot = ProcFsProcessInspector.host().inspect(exec((int) self, (int) parent, "java", 0));

        assertThat(snapshot.exe()).endsWith("/java");
        assertThat(snapshot.cmdline()).isNotEmpty();
        assertThat(snapshot.cmdline().get(0)).contains("java");
        assertThat(snapshot.parentExe()).isNotNull();
    }

    @Test
    void splitsTheCommandLineOnNulKeepingEmptyArguments() throws IOException {
        fakeProcess(4321, "/usr/bin/curl", "curl\0-o\0\0/tmp/x\0");

        ProcessSnapshot snapshot = new ProcFsProcessInspector(proc, 4096, 64).inspect(exec(4321, 0, "curl", 0));

        assertThat(snapshot.exe()).isEqualTo("/usr/bin/curl");
        assertThat(snapshot.cmdline()).containsExactly("curl", "-o", "", "/tmp/x");
        assertThat(snapshot.parentExe()).isNull();
    }

    @Test
    void boundsTheBytesAndTheNumberOfArgumentsRead() throws IOException {
        fakeProcess(4321, "/x", "a".repeat(100) + "\0b\0c\0d\0");

        assertThat(new ProcFsProcessInspector(proc, 10, 64).inspect(exec(4321, 0, "x", 0)).cmdline())
                .containsExactly("a".repeat(10));
        assertThat(new ProcFsProcessInspector(proc, 4096, 2).inspect(exec(4321, 0, "x", 0)).cmdline())
                .containsExactly("a".repeat(100), "b");
    }

    @Test
    void aProcessThatIsGoneYieldsNothingRatherThanFailing() {
        ProcessSnapshot snapshot = new ProcFsProcessInspector(proc, 4096, 64).inspect(exec(999_999, 999_998, "x", 0));

        assertThat(snapshot).isEqualTo(new ProcessSnapshot(null, List.of(), null));
    }

    @Test
    void theExeAndCommandLineTheKernelGaveAreNotReadAgainOnlyTheParentIs() throws IOException {
        // given a live process whose exec event already carries the kernel's argv and path
        fakeProcess(4321, "/usr/bin/curl", "curl\0-s\0");
        fakeProcess(4300, "/bin/sh", "sh\0");
        ExecEvent plain = exec(4321, 4300, "curl", 0);
        ExecEvent withKernel = new ExecEvent(plain.pid(), plain.tgid(), plain.ppid(), plain.uid(), plain.gid(),
                plain.startTimeNs(), plain.comm(), plain.filename(), plain.file(), plain.interpreter(), plain.cgroupId(),
                plain.mountNsId(), plain.flags(), plain.source(), plain.timestampNs(),
                new ExecEvent.KernelFacts("/usr/bin/curl", false, false, false, List.of("curl", "-s"), false, 2, 0, 0,
                        -1, -1, "sh"));
        // when
        ProcessSnapshot snapshot = new ProcFsProcessInspector(proc, 4096, 64).inspect(withKernel);
        // then
        assertThat(snapshot).isEqualTo(new ProcessSnapshot(null, List.of(), "/bin/sh"));
        assertThat(new ProcFsProcessInspector(proc, 4096, 64).inspect(plain).cmdline()).containsExactly("curl", "-s");
    }

    private void fakeProcess(int pid, String exe, String cmdline) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.createSymbolicLink(dir.resolve("exe"), Path.of(exe));
        Files.write(dir.resolve("cmdline"), cmdline.getBytes(StandardCharsets.UTF_8));
    }
}
