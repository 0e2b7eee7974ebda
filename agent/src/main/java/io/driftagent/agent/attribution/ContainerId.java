package io.driftagent.agent.attribution;

import java.util.regex.Pattern;

/** A container runtime's container id: 64 hex for Kubernetes runtimes, a name for plain {@code ctr run}. */
public record ContainerId(String value) {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    public ContainerId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid container id: " + value);
        }
    }

    /** The 12-character short form that docker and crictl print. */
    public String shortId() {
        return value.length() > 12 ? value.substring(0, 12) : value;
    }

    @Override
    public String toString() {
        return value;
    }
}
