package io.driftagent.agent.runtime;

import io.driftagent.agent.cloud.CloudIdentity;
import io.driftagent.agent.cloud.CloudSettings;
import io.driftagent.agent.cloud.NodeCloudIdentityResolver;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.http.Readiness;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.k8s.MetadataProvider;
import io.driftagent.agent.k8s.PodMetadataInformer;
import io.driftagent.agent.standalone.CompositeMetadataProvider;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;

/** Builds workload metadata: the pod informer in Kubernetes, the runtime's own state files standalone. */
final class MetadataAssembly {

    private MetadataAssembly() {
    }

    /** The metadata provider and the service that starts and stops it. */
    record Metadata(MetadataProvider provider, ManagedService service) {
    }

    static Metadata build(AgentConfig config, KubernetesClient client, Readiness readiness, MeterRegistry registry,
                          Clock clock) {
        if (client == null) {
            CompositeMetadataProvider standalone = CompositeMetadataProvider.standaloneWithCtr(clock);
            return new Metadata(standalone, ManagedService.of("runtime-metadata", () -> { }, standalone::close));
        }
        PodMetadataInformer informer = new PodMetadataInformer(client, config.nodeName(),
                PodMetadataInformer.DEFAULT_DELETED_POD_GRACE, clock);
        informer.registerMetrics(registry);
        readiness.register("informer", () -> informer.isSynced()
                ? ReadinessCheck.Result.passing()
                : ReadinessCheck.Result.failing("pod informer " + informer.state().code()
                        + informer.lastSyncError().map(e -> ": " + e).orElse("")));
        return new Metadata(informer, ManagedService.of("pod-informer", informer::start, informer::close));
    }

    /** Configuration wins; in Kubernetes the node's providerID fills what configuration leaves open. */
    static CloudIdentity cloud(AgentConfig config, KubernetesClient client) {
        NodeCloudIdentityResolver resolver = new NodeCloudIdentityResolver(
                new CloudSettings(config.clusterName(), config.cloudProvider(), config.cloudAccount()));
        return client == null ? resolver.fromSettingsOnly() : resolver.resolve(client, config.nodeName());
    }
}
