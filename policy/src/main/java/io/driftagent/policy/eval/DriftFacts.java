package io.driftagent.policy.eval;

import io.driftagent.policy.model.DriftKind;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the policy may look at for one drifted exec. Unknown values are null (they match no condition
 * that names them); labels is never null.
 */
public record DriftFacts(
        String cloudProvider,
        String cloudAccount,
        String clusterName,
        String namespace,
        String podName,
        Map<String, String> podLabels,
        String containerName,
        String imageName,
        DriftKind kind,
        String path,
        String sha256) {

    public DriftFacts {
        podLabels = podLabels == null ? Map.of() : Map.copyOf(podLabels);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
    }
}
