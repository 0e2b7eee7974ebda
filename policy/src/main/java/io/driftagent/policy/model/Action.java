package io.driftagent.policy.model;

import java.util.Locale;
import java.util.Optional;

/** What a rule does with a drifted exec it decides. */
public enum Action {
    ALERT, BLOCK, IGNORE;

    /** The spelling used in policy files and alerts: {@code alert}, {@code block}, {@code ignore}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the exact wire spelling; anything else (including other letter cases) is empty. */
    public static Optional<Action> fromWireName(String text) {
        for (Action action : values()) {
            if (action.wireName().equals(text)) {
                return Optional.of(action);
            }
        }
        return Optional.empty();
    }
}
