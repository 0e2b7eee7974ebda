package io.driftagent.agent.runtime;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.FallbackExecSource;
import io.driftagent.agent.source.ebpf.EbpfExecSource;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifySourceConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Locale;
import java.util.List;

/** The exec source the configuration asks for; {@code auto} takes eBPF and falls back to fanotify. */
final class SourceAssembly {

    /** Every loss reason the eBPF and fanotify sources count. */
    private static final List<String> LOSS_REASONS =
            List.of("ringbuf_full", "queue_full", "sink_error", "malformed_record", "fanotify_overflow", "bad_version",
                    "fd_unreadable", "internal_error", "malformed", "reader_failed");

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

    /** The source's own counters, read at scrape: execs delivered and lost (by reason) before the pipeline. */
    static void registerMetrics(ExecSource source, AgentConfig config, MeterRegistry registry) {
        String selection = config.source().name().toLowerCase(Locale.ROOT);
        FunctionCounter.builder("drift.source.delivered", source, s -> s.stats().delivered())
                .description("Execs the exec source handed to the pipeline").tag("source", selection)
                .register(registry);
        for (String reason : LOSS_REASONS) {
            FunctionCounter.builder("drift.source.lost", source, s -> s.stats().lost().getOrDefault(reason, 0L))
                    .description("Execs the exec source lost, by reason").tag("source", selection).tag("reason", reason)
                    .register(registry);
            // the documented, source-independent names (docs/alerts.md)
            FunctionCounter.builder("drift.events.lost", source, s -> s.stats().lost().getOrDefault(reason, 0L))
                    .description("Exec events lost before classification, by reason").tag("reason", reason)
                    .register(registry);
        }
        FunctionCounter.builder("drift.execs.observed", source,
                        s -> s.stats().delivered() + s.stats().lost().values().stream().mapToLong(Long::longValue).sum())
                .description("Exec events the exec source saw: delivered to the pipeline or lost")
                .tag("source", selection).register(registry);
    }

    private static ExecSource fanotify(Clock clock) {
        return new FanotifyExecSource(FanotifySourceConfig.defaults(), clock);
    }
}
