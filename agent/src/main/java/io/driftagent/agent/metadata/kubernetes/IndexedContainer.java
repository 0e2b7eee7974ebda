package io.driftagent.agent.metadata.kubernetes;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.util.Objects;

/** One container of a pod, keyed by the runtime's container id, with the metadata an alert carries. */
public record IndexedContainer(ContainerId id, ContainerRuntime runtime, WorkloadMetadata metadata) {
    public IndexedContainer {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(metadata, "metadata");
    }
}
