package io.driftagent.policy.model;

import java.util.Locale;
import java.util.Optional;

/**
 * What a blocking guard answers for an exec a {@code block} rule decides when the decision is not made in time (the
 * executed file took too long to classify, or the agent is overloaded). The file is chosen by whoever execs it, so
 * the time its classification takes is too: {@link #DENY}, the default of a block rule, keeps that choice from
 * deciding the outcome.
 */
public enum OnTimeout {
    DENY, ALLOW;

    /** The spelling used in policy files: {@code deny}, {@code allow}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the exact wire spelling; anything else (including other letter cases) is empty. */
    public static Optional<OnTimeout> fromWireName(String text) {
        for (OnTimeout value : values()) {
            if (value.wireName().equals(text)) {
                return Optional.of(value);
            }
        }
        return Optional.empty();
    }

    /** The answer when a rule does not say: {@link #DENY} for a {@code block} rule (never meaningful for others). */
    public static OnTimeout defaultFor(Action action) {
        return action == Action.BLOCK ? DENY : ALLOW;
    }
}
