package io.driftagent.agent.cloud;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works out the node's cloud identity once at start: configuration first (a provider and account both configured
 * win without any API call), else the Node's {@code spec.providerID} (RBAC: {@code get nodes}), with the configured
 * account filling in what the providerID lacks (AWS) or overriding it.
 */
public final class NodeCloudIdentityResolver {
    private static final Logger LOG = LoggerFactory.getLogger(NodeCloudIdentityResolver.class);

    private final CloudSettings settings;

    public NodeCloudIdentityResolver(CloudSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Reads the node through {@code client}; an unreachable API or a missing node falls back to configuration. */
    public CloudIdentity resolve(KubernetesClient client, String nodeName) {
        if (settings.provider() != null && settings.account() != null) {
            return fromSettingsOnly();
        }
        String providerId;
        try {
            Node node = client.nodes().withName(nodeName).get();
            if (node == null) {
                LOG.warn("node {} not found: cloud identity from configuration only", nodeName);
                return fromSettingsOnly();
            }
            providerId = node.getSpec() == null ? null : node.getSpec().getProviderID();
        } catch (KubernetesClientException unreachable) {
            LOG.warn("cannot read node {} ({}): cloud identity from configuration only", nodeName,
                    unreachable.getMessage());
            return fromSettingsOnly();
        }
        return fromProviderId(providerId);
    }

    /** Combines a providerID with the configuration (no API call). */
    public CloudIdentity fromProviderId(String providerId) {
        CloudIdentity fromNode = CloudIdentity.fromProviderId(providerId, settings.account());
        if (fromNode.provider() == null) {
            return fromSettingsOnly();
        }
        if (settings.provider() != null && settings.provider() != fromNode.provider()) {
            LOG.warn("configured cloud provider {} differs from the node's providerID {}: using configuration",
                    settings.provider().wireName(), providerId);
            return fromSettingsOnly();
        }
        String account = settings.account() != null ? settings.account() : fromNode.account();
        return new CloudIdentity(fromNode.provider(), account);
    }

    /** Configuration alone: its provider and account, or none. */
    public CloudIdentity fromSettingsOnly() {
        return settings.provider() == null ? CloudIdentity.NONE
                : new CloudIdentity(settings.provider(), settings.account());
    }
}
