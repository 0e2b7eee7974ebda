package io.driftagent.agent.cloud;

import io.driftagent.policy.model.CloudProvider;
/**
 * What configuration says about where the agent runs.
 *
 * @param clusterName the cluster's name (alert field {@code cluster}; Kubernetes has no API for it), may be null
 * @param provider    forces the provider; null to read it from the node's {@code spec.providerID}
 * @param account     the account id: required for AWS (the providerID lacks it); for Azure/GCP it overrides the
 *                    one read from the node
 */
public record CloudSettings(String clusterName, CloudProvider provider, String account) {
    public static final CloudSettings NONE = new CloudSettings(null, null, null);

    public CloudSettings {
        clusterName = blankToNull(clusterName);
        account = blankToNull(account);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }
}
