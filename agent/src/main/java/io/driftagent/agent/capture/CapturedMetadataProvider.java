package io.driftagent.agent.capture;

import io.driftagent.agent.attribution.CapturedContainer;
import io.driftagent.agent.attribution.CapturedContainers;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.metadata.containerd.ContainerdMetadataProvider;
import java.util.Optional;

/**
 * Workload metadata from the bundle annotations captured when the container appeared: what is still known of a
 * container whose bundle containerd has already deleted (a short-lived container). It answers for gone containers
 * only: while a container lives, its bundle (and the runtime's records: a plain {@code ctr run} container's image)
 * is the better source, and its "not yet" must not be overridden. Answers from memory only.
 */
public final class CapturedMetadataProvider implements MetadataProvider {

    private final CapturedContainers captures;

    public CapturedMetadataProvider(CapturedContainers captures) {
        this.captures = captures;
    }

    @Override
    public Optional<WorkloadMetadata> lookup(ContainerId id) {
        return captures.byId(id).filter(CapturedContainer::gone)
                .map(c -> ContainerdMetadataProvider.fromAnnotations(id, c.annotations()));
    }
}
