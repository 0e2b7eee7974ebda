package io.driftagent.policy.model;

import java.util.List;
import java.util.Objects;

/**
 * One resource-scope condition: the field's value must match at least one of the values (OR).
 * For {@link ResourceField#POD_LABELS} each value is {@code key=value} (the operator applies to that label's value)
 * or {@code key} (the label is present).
 */
public record ResourceCondition(
        @PolicyKey(required = true, description = "The workload attribute compared.")
        ResourceField field,
        @PolicyKey(required = true, description = "How the values are compared with the attribute.")
        MatchOperator operator,
        @PolicyKey(required = true, description = "The attribute must match at least one value; podLabels values are"
                + " 'key=value' or 'key'.")
        List<String> values,
        @PolicyKey(description = "Compare ignoring case (label keys are always exact).")
        boolean ignoreCase) {
    public ResourceCondition {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(operator, "operator");
        values = List.copyOf(values);
        if (values.isEmpty()) {
            throw new IllegalArgumentException("a condition needs at least one value");
        }
    }

    /** The condition as a policy author would read it, e.g. {@code namespace equals [kube-system]}. */
    public String describe() {
        return field.wireName() + " " + operator.wireName() + " " + values + (ignoreCase ? " (ignoreCase)" : "");
    }
}
