package io.driftagent.policy.model;

import java.util.Locale;
import java.util.Optional;

/**
 * What made a drifted file run in a container: it was executed ({@link #EXEC}), or mapped executable into a running
 * process as a shared library ({@link #LIBRARY}: {@code LD_PRELOAD}, {@code dlopen}). A rule's {@code triggers}
 * narrows it to one of them; a rule without it applies to both, so library drift follows the same rules as binary
 * drift unless a rule says otherwise.
 */
public enum Trigger {
    EXEC, LIBRARY;

    /** The spelling used in policy files: {@code exec}, {@code library}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the exact wire spelling; anything else (including other letter cases) is empty. */
    public static Optional<Trigger> fromWireName(String text) {
        for (Trigger value : values()) {
            if (value.wireName().equals(text)) {
                return Optional.of(value);
            }
        }
        return Optional.empty();
    }
}
