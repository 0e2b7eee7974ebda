package io.driftagent.policy.model;

import java.util.Optional;

/** The workload attribute a resource-scope condition looks at. */
public enum ResourceField {
    CONTAINER_NAME("containerName"),
    IMAGE_NAME("imageName"),
    NAMESPACE("namespace"),
    POD_NAME("podName"),
    POD_LABELS("podLabels"),
    CLUSTER_NAME("clusterName");

    private final String wireName;

    ResourceField(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<ResourceField> fromWireName(String text) {
        for (ResourceField field : values()) {
            if (field.wireName.equals(text)) {
                return Optional.of(field);
            }
        }
        return Optional.empty();
    }
}
