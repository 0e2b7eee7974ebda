package io.driftagent.agent.cli;

/** An event file for {@code policy explain} that cannot be turned into drift facts; the message says why. */
public final class InvalidEventException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidEventException(String message) {
        super(message);
    }
}
