package io.driftagent.policy.learn;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.model.MatchOperator;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.ResourceField;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The workload an exec belongs to, as narrowly as the alert tells it: its namespace, its workload label (the first
 * of {@link #WORKLOAD_LABELS} the pod carries), its container name and, without a workload label, its image.
 * The image is left out when a workload label names the workload, so the suggested rule survives an image upgrade.
 */
public record WorkloadIdentity(String namespace, String labelKey, String labelValue, String containerName,
                               String imageName) {
    /** Labels that name a workload, in the order they are looked for. */
    public static final List<String> WORKLOAD_LABELS = List.of("app.kubernetes.io/name", "app", "k8s-app", "name");

    public static WorkloadIdentity of(DriftFacts facts) {
        Map<String, String> labels = facts.podLabels();
        for (String key : WORKLOAD_LABELS) {
            String value = labels.get(key);
            if (value != null) {
                return new WorkloadIdentity(facts.namespace(), key, value, facts.containerName(), null);
            }
        }
        return new WorkloadIdentity(facts.namespace(), null, null, facts.containerName(), facts.imageName());
    }

    /** The workload's name for {@code --workload}: the workload label's value, else the container name; may be null. */
    public String workload() {
        return labelValue != null ? labelValue : containerName;
    }

    /**
     * The resource-scope conditions that select this workload (each {@code equals}, case-sensitive). Empty when the
     * alert names neither a namespace, a workload label nor an image: such an exec cannot be scoped, and a rule for
     * it would be a blanket one.
     */
    public List<ResourceCondition> conditions() {
        if (namespace == null && labelKey == null && imageName == null) {
            return List.of();
        }
        List<ResourceCondition> conditions = new ArrayList<>();
        if (namespace != null) {
            conditions.add(equals(ResourceField.NAMESPACE, namespace));
        }
        if (labelKey != null) {
            conditions.add(equals(ResourceField.POD_LABELS, labelKey + "=" + labelValue));
        }
        if (containerName != null) {
            conditions.add(equals(ResourceField.CONTAINER_NAME, containerName));
        }
        if (imageName != null) {
            conditions.add(equals(ResourceField.IMAGE_NAME, imageName));
        }
        return conditions;
    }

    /** A short description for comments and names: {@code shop/app=web container app}. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        parts.add("namespace " + (namespace == null ? "(none)" : namespace));
        if (labelKey != null) {
            parts.add(labelKey + "=" + labelValue);
        }
        if (containerName != null) {
            parts.add("container " + containerName);
        }
        if (imageName != null) {
            parts.add("image " + imageName);
        }
        return String.join(", ", parts);
    }

    private static ResourceCondition equals(ResourceField field, String value) {
        return new ResourceCondition(field, MatchOperator.EQUALS, List.of(value), false);
    }
}
