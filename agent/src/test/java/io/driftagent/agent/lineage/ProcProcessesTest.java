package io.driftagent.agent.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcProcessesTest {
    @TempDir
    Path proc;

    @Test
    void anAncestorsCommandLineIsSplitOnNulKeepingEmptyArgumentsWithinItsBounds() throws IOException {
        // given a process whose cmdline has an empty argument
        Path dir = Files.createDirectories(proc.resolve("4321"));
        Files.write(dir.resolve("cmdline"), "sh\0-c\0\0echo hi\0".getBytes());

        // then it is split as the kernel's argv is, bounded by bytes and by arguments
        assertThat(new ProcProcesses(proc, 4096, 64).cmdline(4321)).containsExactly("sh", "-c", "", "echo hi");
        assertThat(new ProcProcesses(proc, 4096, 2).cmdline(4321)).containsExactly("sh", "-c");
        assertThat(new ProcProcesses(proc, 4, 64).cmdline(4321)).containsExactly("sh", "-");
    }

    @Test
    void aProcessThatIsGoneHasAnEmptyCommandLine() {
        assertThat(new ProcProcesses(proc, 4096, 64).cmdline(999_999)).isEmpty();
    }
}
