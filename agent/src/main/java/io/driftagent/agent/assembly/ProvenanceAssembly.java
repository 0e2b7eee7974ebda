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

    static WriteOrigins origins(ContainerCaptureRegistry captures, MeterRegistry registry) {
        WriteOrigins origins = WriteOrigins.withDefaults();
        captures.addGoneListener(origins::containerGone);
        for (String record : List.of("write", "remote", "malformed")) {
            FunctionCounter.builder("drift.origin.records", origins, o -> o.stats().get(record))
                    .description("Write records read from the kernel: write (a file opened for writing in a"
                            + " container), remote (a writer's new TCP peer), malformed")
                    .tag("type", record).register(registry);
        }
        for (String scope : List.of("container", "node")) {
            FunctionCounter.builder("drift.origin.evicted", origins, o -> o.stats().get("evicted_" + scope))
                    .description("Written files forgotten before their container ended: more than the per-container"
                            + " or the node's bound")
                    .tag("scope", scope).register(registry);
        }
        Gauge.builder("drift.origin.files", origins, WriteOrigins::size)
                .description("Written files whose writer is kept").register(registry);
        Gauge.builder("drift.origin.active", origins, o -> o.active() ? 1 : 0)
                .description("1 when the kernel's write tracking runs (eBPF source with its write programs attached)")
                .register(registry);
        return origins;
    }

    /** drift.origin.kernel{event}: the write programs' own counters (opens seen, records written, records lost). */
    static void registerKernelCounters(ExecSource source, MeterRegistry registry) {
        List<String> events = List.of("opens", "emitted", "ringbuf_full", "connects", "remote_updates");
        int[] index = {WriteRecordLayout.CTR_OPENS, WriteRecordLayout.CTR_EMITTED, WriteRecordLayout.CTR_RINGBUF_FULL,
                WriteRecordLayout.CTR_CONNECTS, WriteRecordLayout.CTR_REMOTE_UPDATES};
        for (int i = 0; i < events.size(); i++) {
            int at = index[i];
            FunctionCounter.builder("drift.origin.kernel", source, s -> ebpf(s).map(e -> e.writeCounters()[at]).orElse(0L))
                    .description("The kernel's write tracking: opens for writing by processes in containers, write"
                            + " records emitted (first per file and writer), records lost (ring full), TCP connects,"
                            + " remote updates")
                    .tag("event", events.get(i)).register(registry);
        }
    }

    private static Optional<EbpfExecSource> ebpf(ExecSource source) {
        ExecSource s = source instanceof FallbackExecSource fallback ? fallback.active() : source;
        return s instanceof EbpfExecSource e ? Optional.of(e) : Optional.empty();
    }
}
