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

    @Test
    void scriptFilesAreFoundOnlyWhereKallsymsShowsTheAddressOfTheDeferredFputCallback() throws Exception {
        Path shown = Files.writeString(dir.resolve("kallsyms-shown"),
                "ffffffff81000000 T _stext\nffffffff816db270 t ____fput\nffffffff816db280 t __fput_sync\n");
        Path hidden = Files.writeString(dir.resolve("kallsyms-hidden"),
                "0000000000000000 T _stext\n0000000000000000 t ____fput\n");
        Path absent = Files.writeString(dir.resolve("kallsyms-absent"), "ffffffff81000000 T _stext\n");

        assertThat(new EbpfPrerequisites(status("0"), btf(), shown).scriptFileDegradation()).isEmpty();
        assertThat(new EbpfPrerequisites(status("0"), btf(), hidden).scriptFileDegradation())
                .hasValueSatisfying(why -> assertThat(why).contains("CAP_SYSLOG").contains("UNRESOLVED"));
        assertThat(new EbpfPrerequisites(status("0"), btf(), absent).scriptFileDegradation())
                .hasValueSatisfying(why -> assertThat(why).contains("no ____fput"));
        assertThat(new EbpfPrerequisites(status("0"), btf(), dir.resolve("none")).scriptFileDegradation())
                .hasValueSatisfying(why -> assertThat(why).contains("cannot read"));
    }
}
