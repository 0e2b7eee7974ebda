package io.driftagent.policy.model;

import java.util.Objects;

/**
 * One process a rule does not treat as drift.
 *
 * @param form  how {@code value} is compared with the executed file
 * @param value the absolute path, glob, basename or lowercase hex sha256 (without the prefix)
 */
public record AllowListEntry(Form form, String value) {
    public AllowListEntry {
        Objects.requireNonNull(form, "form");
        Objects.requireNonNull(value, "value");
    }

    public enum Form {
        /** An absolute path, compared exactly. */
        PATH(""),
        /** {@code glob:} a path glob. */
        GLOB("glob:"),
        /** {@code name:} the executed file's basename. */
        NAME("name:"),
        /** {@code sha256:} the executed file's content digest. */
        SHA256("sha256:");

        private final String prefix;

        Form(String prefix) {
            this.prefix = prefix;
        }

        public String prefix() {
            return prefix;
        }
    }

    /** The entry as written in a policy file. */
    @Override
    public String toString() {
        return form.prefix() + value;
    }
}
