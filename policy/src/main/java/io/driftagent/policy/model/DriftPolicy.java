package io.driftagent.policy.model;

import java.util.List;
import java.util.Objects;

/**
 * A whole drift policy as written: rules in file order and the default rule's action.
 * Evaluation order (priority ascending, ties by file order) is the compiler's business.
 */
public record DriftPolicy(List<PolicyRule> rules, Action defaultAction) {
    public static final String API_VERSION = "drift.agent/v1";
    public static final String KIND = "DriftPolicy";

    public DriftPolicy {
        rules = List.copyOf(rules);
        Objects.requireNonNull(defaultAction, "defaultAction");
    }
}
