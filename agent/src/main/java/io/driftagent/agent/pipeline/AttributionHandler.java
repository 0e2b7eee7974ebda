package io.driftagent.agent.pipeline;

import io.driftagent.agent.proc.ContainerAttributor;
import io.driftagent.agent.proc.ContainerContext;
import io.driftagent.agent.source.ExecEvent;
import java.util.Optional;

/** Finds the exec's container (host execs stop here) and snapshots the process from /proc while it still exists. */
final class AttributionHandler implements StageHandler<ExecInFlight.Arrival> {

    private final ContainerAttributor attributor;
    private final ProcessInspector inspector;
    private final Stage<ExecInFlight> next;
    private final PipelineMetrics metrics;

    AttributionHandler(ContainerAttributor attributor, ProcessInspector inspector, Stage<ExecInFlight> next,
                       PipelineMetrics metrics) {
        this.attributor = attributor;
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
        next.offer(ExecInFlight.attributed(arrival, container.get(), inspector.inspect(event)));
    }
}
