package io.driftagent.agent.assembly;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.SourceChoice;
import io.driftagent.agent.host.HostMountTable;
import io.driftagent.agent.provenance.WriteTracking;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.FallbackExecSource;
import io.driftagent.agent.source.ImageExecKeeping;
import io.driftagent.agent.source.ebpf.EbpfExecSource;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifySourceConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** The exec source the configuration asks for; {@code auto} takes eBPF and falls back to fanotify. */
final class SourceAssembly {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SourceAssembly.class);

    /** The loss reasons each source counts (a reason the running source cannot count is no series). */
    private static final Map<ExecEvent.SourceKind, List<String>> LOSS_REASONS = Map.of(
            ExecEvent.SourceKind.EBPF, List.of("ringbuf_full", "queue_full", "sink_error", "malformed_record"),
            ExecEvent.SourceKind.FANOTIFY, List.of("queue_full", "sink_error", "fanotify_overflow", "bad_version",
                    "fd_unreadable", "internal_error", "malformed", "reader_failed"));

    private SourceAssembly() {
    }

    /**
     * The configured source with its counters on {@code registry} (see {@link #registerMetrics}); for {@code auto}
     * the loss reasons are registered once a source has attached, those of that source.
     */
    static ExecSource source(AgentConfig config, Clock clock, MeterRegistry registry, HostMountTable hostMounts) {
        return source(config, clock, registry, hostMounts, WriteTracking.NONE);
    }

    /** The eBPF source's settings: the defaults, library drift as configured. */
    static EbpfExecSource.Config ebpfConfig(AgentConfig config) {
        return EbpfExecSource.Config.defaults().withLibraryMappings(config.kernelHooks().libraryDrift());
    }

    /** The same, the eBPF source tracking writes for {@code writes} (drift.origin). */
    static ExecSource source(AgentConfig config, Clock clock, MeterRegistry registry, HostMountTable hostMounts,
                             WriteTracking writes) {
        return source(config, clock, registry, hostMounts, writes, new ImageExecKeeping());
    }

    /** The same, the eBPF source keeping in the kernel the image execs {@code keeping} is told of. */
    static ExecSource source(AgentConfig config, Clock clock, MeterRegistry registry, HostMountTable hostMounts,
                             WriteTracking writes, ImageExecKeeping keeping) {
        String selection = config.source().name().toLowerCase(Locale.ROOT);
        ExecSource source = switch (config.source()) {
            case EBPF -> new EbpfExecSource(ebpfConfig(config), writes, keeping);
            case FANOTIFY -> fanotify(clock, hostMounts);
            case AUTO -> {
                AtomicReference<ExecSource> fallback = new AtomicReference<>();
                FallbackExecSource auto = new FallbackExecSource(List.of(
                        new FallbackExecSource.Candidate("ebpf",
                                () -> new EbpfExecSource(ebpfConfig(config), writes, keeping)),
                        new FallbackExecSource.Candidate("fanotify", () -> fanotify(clock, hostMounts))),
                        ExecEvent.SourceKind.EBPF,
                        attached -> registerLosses(fallback.get(), selection, attached.kind(), registry));
                fallback.set(auto);
                yield auto;
            }
        };
        registerMetrics(source, selection, registry);
        if (config.source() != SourceChoice.AUTO) {
            registerLosses(source, selection, source.kind(), registry);
        }
        return source;
    }

    /** The source's own counters, read at scrape: execs delivered and lost before the pipeline. */
    private static void registerMetrics(ExecSource source, String selection, MeterRegistry registry) {
        FunctionCounter.builder("drift.source.delivered", source, s -> s.stats().delivered())
                .description("Execs the exec source handed to the pipeline").tag("source", selection)
                .register(registry);
        FunctionCounter.builder("drift.execs.observed", source,
                        s -> s.stats().delivered() + s.stats().lost().values().stream().mapToLong(Long::longValue).sum())
                .description("Exec events the exec source saw: delivered to the pipeline or lost")
                .tag("source", selection).register(registry);
        // one series (the default exposition's budget, docs/benchmarks.md "Metrics footprint"): library loads the
        // kernel could not report; the program's other counters are EbpfExecSource.libraryCounters()
        FunctionCounter.builder("drift.library.lost", source, s -> ebpfOf(s)
                        .map(e -> e.libraryCounters()[io.driftagent.agent.library.MapRecordLayout.CTR_RINGBUF_FULL])
                        .orElse(0L))
                .description("Library loads (executable file mappings that may be drift) the eBPF library program"
                        + " could not report: the events ring was full").register(registry);
    }

    /** Execs lost before the pipeline, by the reasons {@code kind} counts; read from {@code source} at scrape. */
    private static void registerLosses(ExecSource source, String selection, ExecEvent.SourceKind kind,
                                       MeterRegistry registry) {
        for (String reason : LOSS_REASONS.getOrDefault(kind, List.of())) {
            FunctionCounter.builder("drift.source.lost", source, s -> s.stats().lost().getOrDefault(reason, 0L))
                    .description("Execs the exec source lost, by reason").tag("source", selection).tag("reason", reason)
                    .register(registry);
            // the documented, source-independent names (docs/alerts.md)
            FunctionCounter.builder("drift.events.lost", source, s -> s.stats().lost().getOrDefault(reason, 0L))
                    .description("Exec events lost before classification, by reason").tag("reason", reason)
                    .register(registry);
        }
        if (kind == ExecEvent.SourceKind.FANOTIFY) {
            // fanotify reports opens for exec; an mmap(PROT_EXEC) of a library is no exec: say so where users look
            LOG.warn("library drift (LibraryDrift alerts) is not detected with the fanotify source: it sees execs only,"
                    + " not executable file mappings (LD_PRELOAD, dlopen); the eBPF source sees them");
        }
        if (kind == ExecEvent.SourceKind.FANOTIFY) {
            FunctionCounter.builder("drift.fanotify.mount.marks", source,
                            s -> fanotifyOf(s).map(FanotifyExecSource::mountsMarked).orElse(0L))
                    .description("Filesystems of new mounts (host and containers) the fanotify source marked, or failed to")
                    .tag("result", "marked").register(registry);
            FunctionCounter.builder("drift.fanotify.mount.marks", source,
                            s -> fanotifyOf(s).map(FanotifyExecSource::mountMarksFailed).orElse(0L))
                    .description("Filesystems of new mounts (host and containers) the fanotify source marked, or failed to")
                    .tag("result", "failed").register(registry);
            FunctionCounter.builder("drift.fanotify.proc.skipped", source,
                            s -> fanotifyOf(s).map(FanotifyExecSource::hostExecsByMount).orElse(0L))
                    .description("Execs the fanotify source described without reading /proc: a host exec, by the mount"
                            + " its file was opened through")
                    .tag("by", "host_mount").register(registry);
            for (String outcome : List.of("placed", "ambiguous", "unknown")) {
                FunctionCounter.builder("drift.fanotify.gone.layer", source, s -> fanotifyOf(s)
                                .map(f -> f.goneLayerPlacements().getOrDefault(outcome, 0L)).orElse(0L))
                        .description("Execs of deleted host-disk files through a layer never matched (a container's"
                                + " writable layer deleted before its exec was read): placed in that layer by the file's"
                                + " creation time, ambiguous (two layers fit) or unknown (no layer the agent saw fits)")
                        .tag("outcome", outcome).register(registry);
            }
            FunctionCounter.builder("drift.fanotify.reused.device", source,
                            s -> fanotifyOf(s).map(FanotifyExecSource::execsAmongReusedDevices).orElse(0L))
                    .description("Execs on an overlay whose device served more than one container while their event"
                            + " waited in the queue: timed in the first such container's life the file's creation"
                            + " time allows (a misattribution is possible)").register(registry);
            for (String reason : FanotifyExecSource.DOUBTFUL_REASONS) {
                FunctionCounter.builder("drift.fanotify.doubtful", source, s -> fanotifyOf(s)
                                .map(f -> f.doubtful().getOrDefault(reason, 0L)).orElse(0L))
                        .description("Execs whose placement set aside a contradicting fact (pid_reused: /proc at the"
                                + " event's pid was another process by the time it was read) or could not tell"
                                + " writable layer from image (overlay_unseen: an overlay no mount table read showed);"
                                + " each logged at INFO")
                        .tag("reason", reason).register(registry);
            }
            for (String result : List.of("described", "gone", "transient", "unavailable")) {
                FunctionCounter.builder("drift.mount.notices", source, s -> fanotifyOf(s)
                                .map(f -> f.mountNotices().getOrDefault(result, 0L)).orElse(0L))
                        .description("The kernel's notices of the host's mounts (Linux 6.15): described at their"
                                + " attach; gone (detached before the notice was read: a container of which nothing is"
                                + " known); transient (came and went between two reads of the mount table, known from"
                                + " the notices alone); unavailable (1: not used, the mount table reads alone)")
                        .tag("result", result).register(registry);
            }
            FunctionCounter.builder("drift.fanotify.rescanned", source,
                            s -> fanotifyOf(s).map(FanotifyExecSource::rescanned).orElse(0L))
                    .description("Execs the fanotify source found by rescanning /proc (after an overflow; processes"
                            + " running from a memfd or a deleted file)").register(registry);
        }
    }

    private static java.util.Optional<EbpfExecSource> ebpfOf(ExecSource source) {
        ExecSource s = source instanceof FallbackExecSource fallback ? fallback.active() : source;
        return s instanceof EbpfExecSource e ? java.util.Optional.of(e) : java.util.Optional.empty();
    }

    private static java.util.Optional<FanotifyExecSource> fanotifyOf(ExecSource source) {
        ExecSource s = source instanceof FallbackExecSource fallback ? fallback.active() : source;
        return s instanceof FanotifyExecSource f ? java.util.Optional.of(f) : java.util.Optional.empty();
    }

    /** The fanotify source, listening to the host mount table watcher the container capture listens to. */
    private static ExecSource fanotify(Clock clock, HostMountTable hostMounts) {
        return new FanotifyExecSource(FanotifySourceConfig.defaults(), clock, hostMounts);
    }
}
