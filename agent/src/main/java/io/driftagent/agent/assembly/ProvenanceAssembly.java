package io.driftagent.agent.assembly;

import io.driftagent.agent.capture.ContainerCaptureRegistry;
import io.driftagent.agent.provenance.WriteOrigins;
import io.driftagent.agent.provenance.WriteRecordLayout;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.FallbackExecSource;
import io.driftagent.agent.source.ebpf.EbpfExecSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Optional;

/** Write tracking (drift.origin): the store of writers, told by capture when a container ends, and its metrics. */
final class ProvenanceAssembly {

    private ProvenanceAssembly() {
    }

    static WriteOrigins origins(ContainerCaptureRegistry captures, MeterRegistry registry, boolean wanted) {
        WriteOrigins origins = WriteOrigins.withDefaults(wanted);
        captures.addGoneListener(origins::containerGone);
        FunctionCounter.builder("drift.origin.evicted", origins,
                        o -> o.stats().get("evicted_container") + o.stats().get("evicted_node"))
                .description("Written files forgotten before their container ended: more than the per-container or"
                        + " the node's bound (their alerts say which)")
                .register(registry);
        Gauge.builder("drift.origin.files", origins, WriteOrigins::size)
                .description("Written files whose writer is kept").register(registry);
        Gauge.builder("drift.origin.active", origins, o -> o.active() ? 1 : 0)
                .description("1 when the kernel's write tracking runs (eBPF source with its write programs attached)")
                .register(registry);
        return origins;
    }

    /**
     * drift.origin.lost: writes whose writer the agent will not know, lost on the way: write records the kernel could
     * not put in a full ring, and malformed ones (the programs' other counters are for benchmarks: EbpfExecSource
     * writeCounters).
     */
    static void registerKernelCounters(ExecSource source, WriteOrigins origins, MeterRegistry registry) {
        FunctionCounter.builder("drift.origin.lost", source,
                        s -> ebpf(s).map(e -> e.writeCounters()[WriteRecordLayout.CTR_RINGBUF_FULL]).orElse(0L)
                                + origins.stats().get("malformed"))
                .description("Write records lost: the events ring was full, or a record was malformed")
                .register(registry);
    }

    private static Optional<EbpfExecSource> ebpf(ExecSource source) {
        ExecSource s = source instanceof FallbackExecSource fallback ? fallback.active() : source;
        return s instanceof EbpfExecSource e ? Optional.of(e) : Optional.empty();
    }
}
