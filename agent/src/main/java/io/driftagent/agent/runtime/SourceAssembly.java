package io.driftagent.agent.runtime;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.FallbackExecSource;
import io.driftagent.agent.source.ebpf.EbpfExecSource;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifySourceConfig;
import java.time.Clock;
import java.util.List;

/** The exec source the configuration asks for; {@code auto} takes eBPF and falls back to fanotify. */
final class SourceAssembly {

    private SourceAssembly() {
    }

    static ExecSource source(AgentConfig config, Clock clock) {
        return switch (config.source()) {
            case EBPF -> new EbpfExecSource();
            case FANOTIFY -> fanotify(clock);
            case AUTO -> new FallbackExecSource(List.of(
                    new FallbackExecSource.Candidate("ebpf", EbpfExecSource::new),
                    new FallbackExecSource.Candidate("fanotify", () -> fanotify(clock))),
                    ExecEvent.SourceKind.EBPF);
        };
    }

    private static ExecSource fanotify(Clock clock) {
        return new FanotifyExecSource(FanotifySourceConfig.defaults(), clock);
    }
}
