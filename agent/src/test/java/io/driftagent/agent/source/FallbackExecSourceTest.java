package io.driftagent.agent.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FallbackExecSourceTest {

    /** A source that either attaches or refuses with a reason, and remembers being closed. */
    private static final class FakeSource implements ExecSource {
        private final ExecEvent.SourceKind kind;
        private final String refusal;
        private boolean started;
        private boolean closed;

        FakeSource(ExecEvent.SourceKind kind, String refusal) {
            this.kind = kind;
            this.refusal = refusal;
        }

        @Override
        public void start(ExecEventSink sink) throws SourceUnavailableException {
            if (refusal != null) {
                throw new SourceUnavailableException(refusal);
            }
            started = true;
        }

        @Override
        public SourceStats stats() {
            return new SourceStats(started ? 7 : 0, Map.of("queue_full", 1L));
        }

        @Override
        public ExecEvent.SourceKind kind() {
            return kind;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void whenEbpfCannotAttachFanotifyTakesOver() throws Exception {
        FakeSource ebpf = new FakeSource(ExecEvent.SourceKind.EBPF, "no BTF at /sys/kernel/btf/vmlinux");
        FakeSource fanotify = new FakeSource(ExecEvent.SourceKind.FANOTIFY, null);
        FallbackExecSource source = new FallbackExecSource(List.of(
                new FallbackExecSource.Candidate("ebpf", () -> ebpf),
                new FallbackExecSource.Candidate("fanotify", () -> fanotify)), ExecEvent.SourceKind.EBPF);

        source.start(event -> true);

        assertThat(source.active()).isSameAs(fanotify);
        assertThat(source.kind()).isEqualTo(ExecEvent.SourceKind.FANOTIFY);
        assertThat(source.stats().delivered()).isEqualTo(7);
        assertThat(ebpf.closed).as("the refused source is closed, nothing leaks").isTrue();
        source.close();
        assertThat(fanotify.closed).isTrue();
    }

    @Test
    void theFirstSourceThatAttachesWinsAndLaterOnesAreNeverBuilt() throws Exception {
        FakeSource ebpf = new FakeSource(ExecEvent.SourceKind.EBPF, null);
        FallbackExecSource source = new FallbackExecSource(List.of(
                new FallbackExecSource.Candidate("ebpf", () -> ebpf),
                new FallbackExecSource.Candidate("fanotify", () -> {
                    throw new AssertionError("must not be built");
                })), ExecEvent.SourceKind.EBPF);

        source.start(event -> true);

        assertThat(source.active()).isSameAs(ebpf);
    }

    @Test
    void whenNoSourceAttachesEveryReasonIsReported() {
        FallbackExecSource source = new FallbackExecSource(List.of(
                new FallbackExecSource.Candidate("ebpf", () -> new FakeSource(ExecEvent.SourceKind.EBPF, "not root")),
                new FallbackExecSource.Candidate("fanotify",
                        () -> new FakeSource(ExecEvent.SourceKind.FANOTIFY, "fanotify_init: EPERM"))),
                ExecEvent.SourceKind.EBPF);

        assertThatThrownBy(() -> source.start(event -> true))
                .isInstanceOf(SourceUnavailableException.class)
                .hasMessageContaining("ebpf unavailable: not root")
                .hasMessageContaining("fanotify unavailable: fanotify_init: EPERM");
        assertThat(source.stats().delivered()).isZero();
    }
}
