package io.driftagent.agent.runtime;

import io.driftagent.agent.k8s.MetadataProvider;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.proc.ContainerId;
import java.util.List;
import java.util.Optional;

/**
 * Asks each provider in turn and answers with the first that knows the container. Order matters: put the richer
 * source first (Docker before containerd: a Docker container also has a containerd bundle, with less in it).
 */
public final class CompositeMetadataProvider implements MetadataProvider {
    private final List<MetadataProvider> providers;

    public CompositeMetadataProvider(List<? extends MetadataProvider> providers) {
        if (providers.isEmpty()) {
            throw new IllegalArgumentException("at least one provider");
        }
        this.providers = List.copyOf(providers);
    }

    /** Docker's state, then containerd's bundles, at their default locations: standalone mode's provider. */
    public static CompositeMetadataProvider standaloneDefaults(java.time.Clock clock) {
        return new CompositeMetadataProvider(List.of(new DockerMetadataProvider(clock),
                new ContainerdMetadataProvider(clock)));
    }

    @Override
    public Optional<WorkloadMetadata> lookup(ContainerId id) {
        for (MetadataProvider provider : providers) {
            Optional<WorkloadMetadata> found = provider.lookup(id);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }
}
