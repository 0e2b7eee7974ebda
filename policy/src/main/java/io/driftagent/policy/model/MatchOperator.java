package io.driftagent.policy.model;

import java.util.Optional;

/** How a condition's values are compared with the workload attribute. */
public enum MatchOperator {
    EQUALS("equals"),
    STARTS_WITH("startsWith"),
    ENDS_WITH("endsWith"),
    CONTAINS("contains"),
    /** {@code *} within one {@code /}-separated segment, {@code **} across segments, {@code ?} one character. */
    GLOB("glob"),
    /** java.util.regex, whole-value match. */
    REGEX("regex");

    private final String wireName;

    MatchOperator(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<MatchOperator> fromWireName(String text) {
        for (MatchOperator operator : values()) {
            if (operator.wireName.equals(text)) {
                return Optional.of(operator);
            }
        }
        return Optional.empty();
    }
}
