package io.driftagent.policy.eval;

import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.ResourceField;

/** A condition on one string attribute of the workload; a null attribute never matches. */
final class FieldCondition extends CompiledCondition {
    private final ResourceField field;
    private final ValueMatcher matcher;

    FieldCondition(ResourceCondition condition) {
        super(condition);
        this.field = condition.field();
        this.matcher = ValueMatcher.of(condition.operator(), condition.values(), condition.ignoreCase());
    }

    @Override
    boolean matches(DriftFacts facts) {
        String value = valueOf(facts);
        return value != null && matcher.matches(value);
    }

    private String valueOf(DriftFacts facts) {
        return valueOf(facts, field);
    }

    /** The string fact a condition on {@code field} looks at; null when unknown. Not for {@code podLabels}. */
    static String valueOf(DriftFacts facts, ResourceField field) {
        switch (field) {
            case CONTAINER_NAME:
                return facts.containerName();
            case IMAGE_NAME:
                return facts.imageName();
            case NAMESPACE:
                return facts.namespace();
            case POD_NAME:
                return facts.podName();
            case CLUSTER_NAME:
                return facts.clusterName();
            default:
                throw new IllegalStateException("not a string field: " + field);
        }
    }

    @Override
    String describeFact(DriftFacts facts) {
        String value = valueOf(facts);
        return field.wireName() + (value == null ? " is unknown" : " '" + value + "'");
    }
}
