package io.driftagent.policy.model;

import java.util.List;
import java.util.Objects;

/**
 * A whole drift policy as written: rules in file order and the default rule's action.
 * Evaluation order (priority ascending, ties by file order) is the compiler's business.
 *
 * @param defaultOnTimeout the default rule's {@code onTimeout} (see {@link PolicyRule}); null means the default of
 *                         its action
 */
public record DriftPolicy(List<PolicyRule> rules, Action defaultAction, OnTimeout defaultOnTimeout) {
    public static final String API_VERSION = "drift.agent/v1";
    public static final String KIND = "DriftPolicy";

    public DriftPolicy {
        rules = List.copyOf(rules);
        Objects.requireNonNull(defaultAction, "defaultAction");
        defaultOnTimeout = defaultOnTimeout == null ? OnTimeout.defaultFor(defaultAction) : defaultOnTimeout;
        if (defaultOnTimeout == OnTimeout.DENY && defaultAction != Action.BLOCK) {
            throw new IllegalArgumentException("onTimeout deny needs action block, not " + defaultAction.wireName());
        }
    }

    /** A policy whose default rule has the default {@code onTimeout} of its action. */
    public DriftPolicy(List<PolicyRule> rules, Action defaultAction) {
        this(rules, defaultAction, null);
    }
}
