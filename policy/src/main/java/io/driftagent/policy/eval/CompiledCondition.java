package io.driftagent.policy.eval;

import io.driftagent.policy.model.ResourceCondition;

/** One resource-scope condition, precompiled; {@link #matches} allocates nothing. */
abstract class CompiledCondition {
    private final ResourceCondition source;

    CompiledCondition(ResourceCondition source) {
        this.source = source;
    }

    static CompiledCondition compile(ResourceCondition condition) {
        switch (condition.field()) {
            case POD_LABELS:
                return new LabelCondition(condition);
            default:
                return new FieldCondition(condition);
        }
    }

    ResourceCondition source() {
        return source;
    }

    abstract boolean matches(DriftFacts facts);

    /** The fact this condition looked at, for explanations; "unknown" when the fact is null. */
    abstract String describeFact(DriftFacts facts);
}
