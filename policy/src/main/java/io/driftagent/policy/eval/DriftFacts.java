package io.driftagent.policy.eval;

import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.Trigger;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the policy may look at for one drifted exec. Unknown values are null (they match no condition
 * that names them); labels is never null. {@code trigger}: what made the file run (an exec, or a library load).
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
        String sha256,
        Trigger trigger) {

    /** The facts of a drifted exec. */
    public DriftFacts(String cloudProvider, String cloudAccount, String clusterName, String namespace, String podName,
                      Map<String, String> podLabels, String containerName, String imageName, DriftKind kind,
                      String path, String sha256) {
        this(cloudProvider, cloudAccount, clusterName, namespace, podName, podLabels, containerName, imageName, kind,
                path, sha256, Trigger.EXEC);
    }

    public DriftFacts {
        Objects.requireNonNull(trigger, "trigger");
        podLabels = podLabels == null ? Map.of() : Map.copyOf(podLabels);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
    }
}
