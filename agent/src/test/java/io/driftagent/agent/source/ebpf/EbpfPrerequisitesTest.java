package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.source.SourceUnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EbpfPrerequisitesTest {
    @TempDir
    Path dir;

    private Path status(String capEff) throws Exception {
        return Files.writeString(dir.resolve("status"), "Name:\tjava\nCapInh:\t0000000000000000\nCapEff:\t" + capEff + "\n");
    }

    private Path btf() throws Exception {
        return Files.writeString(dir.resolve("vmlinux"), "btf");
    }

    @Test
    void startWithoutCapabilitiesFailsSayingWhatIsNeeded() throws Exception {
        // given an unprivileged process
        EbpfExecSource source = new EbpfExecSource(EbpfExecSource.Config.defaults(),
                new EbpfPrerequisites(status("0000000000000000"), btf()));
        // then
        assertThatThrownBy(() -> source.start(e -> true))
                .isInstanceOf(SourceUnavailableException.class)
                .hasMessageContaining("not privileged")
                .hasMessageContaining("CAP_BPF and CAP_PERFMON");
    }

    @Test
    void startWithoutKernelBtfFailsNamingTheMissingFile() throws Exception {
        EbpfExecSource source = new EbpfExecSource(EbpfExecSource.Config.defaults(),
                new EbpfPrerequisites(status("000001ffffffffff"), dir.resolve("no-vmlinux")));
        assertThatThrownBy(() -> source.start(e -> true))
                .isInstanceOf(SourceUnavailableException.class)
                .hasMessageContaining("no BTF")
                .hasMessageContaining("no-vmlinux");
    }

    @Test
    void capBpfWithPerfmonIsEnoughWithoutSysAdmin() throws Exception {
        long bpfAndPerfmon = (1L << 39) | (1L << 38);
        assertThat(new EbpfPrerequisites(status(Long.toHexString(bpfAndPerfmon)), btf()).unmetReason()).isEmpty();
        assertThat(new EbpfPrerequisites(status(Long.toHexString(1L << 39)), btf()).unmetReason()).isPresent();
        assertThat(new EbpfPrerequisites(status(Long.toHexString(1L << 21)), btf()).unmetReason()).isEmpty();
    }

    @Test
    void configRejectsARingBufferThatIsNotAPowerOfTwo() {
        assertThatThrownBy(() -> new EbpfExecSource.Config(ProgramChoice.AUTO, 3 * 4096, java.time.Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
