package io.driftagent.agent.assembly;

import io.driftagent.agent.cloud.CloudIdentity;
import io.driftagent.agent.cloud.CloudSettings;
import io.driftagent.agent.cloud.NodeCloudIdentityResolver;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.http.Readiness;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.metadata.CompositeMetadataProvider;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.containerd.ContainerdMetadataProvider;
import io.driftagent.agent.metadata.kubernetes.PodMetadataInformer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;

/** Builds workload metadata: the pod informer in Kubernetes, the runtime's own state files standalone. */
final class MetadataAssembly {

    private MetadataAssembly() {
    }

    /**
     * The metadata providers and the service that starts and stops them.
     *
     * @param provider        what alerts and the pipeline's policy use (in Kubernetes: the pod informer, with late
     *                        data parked until it knows the pod, then the containerd bundle as the last resort)
     * @param earlyProvider   what blocking decisions use: they cannot wait, so in Kubernetes the informer is backed by
     *                        the container's containerd bundle (pod name, namespace, uid and container name from the
     *                        CRI annotations, known from the container's start; no labels)
     */
    record Metadata(MetadataProvider provider, MetadataProvider earlyProvider, ManagedService service) {
    }

    /**
     * @param captured the bundle annotations captured when each container appeared: the runtime's metadata of a
     *                 container whose bundle is already deleted (after the runtime's live state files)
     */
    static Metadata build(AgentConfig config, KubernetesClient client, Readiness readiness, MeterRegistry registry,
                          Clock clock, MetadataProvider captured) {
        if (client == null) {
            CompositeMetadataProvider live = CompositeMetadataProvider.standaloneWithCtr(clock);
            MetadataProvider standalone = new CompositeMetadataProvider(List.of(live, captured));
            return new Metadata(standalone, standalone,
                    ManagedService.of("runtime-metadata", () -> { }, live::close));
        }
        PodMetadataInformer informer = new PodMetadataInformer(client, config.nodeName(),
                PodMetadataInformer.DEFAULT_DELETED_POD_GRACE, clock);
        informer.registerMetrics(registry);
        readiness.register("informer", () -> informer.isSynced()
                ? ReadinessCheck.Result.passing()
                : ReadinessCheck.Result.failing("pod informer " + informer.state().code()
                        + informer.lastSyncError().map(e -> ": " + e).orElse("")));
        MetadataProvider bundles = new CompositeMetadataProvider(List.of(new ContainerdMetadataProvider(clock),
                captured));
        MetadataProvider early = new CompositeMetadataProvider(List.of(informer, bundles));
        return new Metadata(MetadataProvider.withLastResort(informer, bundles), early,
                ManagedService.of("pod-informer", informer::start, informer::close));
    }

    /** Configuration wins; in Kubernetes the node's providerID fills what configuration leaves open. */
    static CloudIdentity cloud(AgentConfig config, KubernetesClient client) {
        NodeCloudIdentityResolver resolver = new NodeCloudIdentityResolver(
                new CloudSettings(config.clusterName(), config.cloudProvider(), config.cloudAccount()));
        return client == null ? resolver.fromSettingsOnly() : resolver.resolve(client, config.nodeName());
    }
}
