package io.driftagent.agent.metadata;

import java.util.Map;

/**
 * What is known of a container's workload, from the Kubernetes API or, standalone, from the runtime itself.
 * Every field may be null when unknown; labels is never null.
 */
public record WorkloadMetadata(String podName, String namespace, String podUid, Map<String, String> podLabels,
                               String containerName, String image, String imageDigest) {
    public WorkloadMetadata {
        podLabels = podLabels == null ? Map.of() : Map.copyOf(podLabels);
    }

    public static final WorkloadMetadata UNKNOWN = new WorkloadMetadata(null, null, null, Map.of(), null, null, null);
}
