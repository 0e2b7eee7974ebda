package io.driftagent.systest.kubelet;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What kubelet knows about the pod and its node besides the pod spec: identity, addresses, the Services of the
 * namespace (for service links), the ConfigMaps and Secrets its volumes and env refer to, and where the pod's
 * directory is on the node.
 */
public record PodContext(String podName, String namespace, String podUid, String nodeName, String hostIp,
                         String podIp, Map<String, String> labels, Map<String, String> annotations,
                         List<ServiceLinks.Service> services, Map<String, Map<String, String>> configMaps,
                         Map<String, Map<String, String>> secrets, String serviceAccountToken, Path podDirectory) {

    public PodContext {
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
        services = List.copyOf(services);
        configMaps = Map.copyOf(configMaps);
        secrets = Map.copyOf(secrets);
    }
}
