package io.driftagent.policy.model;

import java.util.List;
import java.util.Objects;

/**
 * One resource-scope condition: the field's value must match at least one of the values (OR).
 * For {@link ResourceField#POD_LABELS} each value is {@code key=value} (the operator applies to that label's value)
 * or {@code key} (the label is present).
 */
public record ResourceCondition(ResourceField field, MatchOperator operator, List<String> values, boolean ignoreCase) {
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
