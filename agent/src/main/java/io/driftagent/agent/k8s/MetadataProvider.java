package io.driftagent.agent.k8s;

import io.driftagent.agent.proc.ContainerId;
import java.util.Optional;

/** Looks up workload metadata by container id. Never blocks on the network: answers from a local cache. */
public interface MetadataProvider {
    Optional<WorkloadMetadata> lookup(ContainerId id);
}
