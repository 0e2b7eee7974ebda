package io.driftagent.agent.metadata;

import io.driftagent.agent.attribution.ContainerId;
import java.util.Optional;

/** Looks up workload metadata by container id. Never blocks on the network: answers from a local cache. */
public interface MetadataProvider {
    Optional<WorkloadMetadata> lookup(ContainerId id);

    /**
     * What a less complete local source knows of the container, for when {@link #lookup} has had no answer for as
     * long as the caller waits (a pod the informer has not heard of: a pod just started, an API server down). Empty
     * unless the provider has such a source.
     */
    default Optional<WorkloadMetadata> lastResort(ContainerId id) {
        return Optional.empty();
    }

    /** {@code primary}, with {@code fallback}'s answer as the last resort. */
    static MetadataProvider withLastResort(MetadataProvider primary, MetadataProvider fallback) {
        return new MetadataProvider() {
            @Override
            public Optional<WorkloadMetadata> lookup(ContainerId id) {
                return primary.lookup(id);
            }

            @Override
            public Optional<WorkloadMetadata> lastResort(ContainerId id) {
                Optional<WorkloadMetadata> own = primary.lastResort(id);
                return own.isPresent() ? own : fallback.lookup(id);
            }
        };
    }
}
