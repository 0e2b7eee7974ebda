package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.source.ExecEvent;
import java.util.Optional;

/**
 * Finds the exec's container (host execs stop here), tells blocking the container was seen
 * ({@link Enforcement#containerSeen}: a container a block rule may scope is put under the exec guard here) and, when the exec may be drift, snapshots the process from
 * /proc at once, while a short-lived process most likely still exists.
 *
 * <p>Most execs in containers run the image's own files, which the kernel flags as on the overlay and not on its
 * writable layer: classification calls those IMAGE without reading anything, and they never alert, so their snapshot
 * (five /proc reads, the largest cost per exec) is skipped. Should such an exec still turn out to be drift (a file on
 * another overlay mount), the classify stage takes the snapshot then.
 */
final class AttributionHandler implements StageHandler<ExecInFlight.Arrival> {

    private final ContainerAttributor attributor;
    private final Enforcement enforcement;
    private final ProcessInspector inspector;
    private final StageInput<ExecInFlight> next;
    private final PipelineMetrics metrics;

    AttributionHandler(ContainerAttributor attributor, Enforcement enforcement, ProcessInspector inspector,
                       StageInput<ExecInFlight> next, PipelineMetrics metrics) {
        this.attributor = attributor;
        this.enforcement = enforcement;
        this.inspector = inspector;
        this.next = next;
        this.metrics = metrics;
    }

    @Override
    public void handle(ExecInFlight.Arrival arrival) {
        ExecEvent event = arrival.event();
        Optional<ContainerContext> container = attributor.attribute(event);
        if (container.isEmpty()) {
            metrics.hostProcess.increment();
            return;
        }
        enforcement.containerSeen(container.get(), event);
        ProcessSnapshot process = null;
        if (arrival.denied() || !imageLayerByKernelFlags(event.flags())) {
            process = inspector.inspect(event);
            metrics.snapshotAtAttribution.increment();
        }
        next.offer(ExecInFlight.attributed(arrival, container.get(), process));
    }

    /** An overlay file without an upper (writable-layer) inode, neither memfd nor unlinked: a lower, image layer's. */
    static boolean imageLayerByKernelFlags(ExecEvent.Flags flags) {
        return flags.overlay() && !flags.upperLayer() && !flags.memfd() && !flags.unlinked();
    }
}
