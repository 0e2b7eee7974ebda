package io.driftagent.agent.metadata;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.metadata.containerd.ContainerdMetadataProvider;
import io.driftagent.agent.metadata.containerd.CtrContainerdRecords;
import io.driftagent.agent.metadata.docker.DockerMetadataProvider;
import java.util.List;
import java.util.Optional;

/**
 * Asks each provider in turn and answers with the first that knows the container. Order matters: put the richer
 * source first (Docker before containerd: a Docker container also has a containerd bundle, with less in it).
 */
public final class CompositeMetadataProvider implements MetadataProvider, AutoCloseable {
    private final List<MetadataProvider> providers;

    public CompositeMetadataProvider(List<? extends MetadataProvider> providers) {
        if (providers.isEmpty()) {
            throw new IllegalArgumentException("at least one provider");
        }
        this.providers = List.copyOf(providers);
    }

    /**
     * Docker's state, then containerd's bundles, at their default locations: standalone mode's provider. Plain
     * {@code ctr run} containers get no image name (see {@link #standaloneWithCtr}).
     */
    public static CompositeMetadataProvider standaloneDefaults(java.time.Clock clock) {
        return new CompositeMetadataProvider(List.of(new DockerMetadataProvider(clock),
                new ContainerdMetadataProvider(clock)));
    }

    /**
     * As {@link #standaloneDefaults}, and the image of plain {@code ctr run} containers asked of {@code ctr} in the
     * background (needs {@code ctr} on the PATH). It owns a thread: {@link #close()} it on shutdown.
     */
    public static CompositeMetadataProvider standaloneWithCtr(java.time.Clock clock) {
        ContainerdMetadataProvider containerd = new ContainerdMetadataProvider(
                ContainerdMetadataProvider.DEFAULT_TASK_ROOT, ContainerdMetadataProvider.DEFAULT_MAX_CONFIG_BYTES,
                clock, new CtrContainerdRecords());
        return new CompositeMetadataProvider(List.of(new DockerMetadataProvider(clock), containerd));
    }

    /** Closes the providers that hold resources (threads). */
    @Override
    public void close() {
        for (MetadataProvider provider : providers) {
            if (provider instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception ignored) {
                    // closing is best effort at shutdown
                }
            }
        }
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
