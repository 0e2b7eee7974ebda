package io.driftagent.agent.pipeline;

/**
 * Where this agent runs, the same for every alert: node, cluster and cloud. Unknown parts are null.
 *
 * @param nodeName      the Kubernetes node name (or the host name, standalone)
 * @param clusterName   from configuration
 * @param cloudProvider azure, aws or gcp: from configuration or the node's {@code spec.providerID}
 * @param cloudAccount  subscription / account / project
 */
public record DeploymentIdentity(String nodeName, String clusterName, String cloudProvider, String cloudAccount) {
}
