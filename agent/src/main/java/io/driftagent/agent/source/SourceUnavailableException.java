package io.driftagent.agent.source;

/** The source cannot attach on this kernel or with these privileges; the message says why. */
public class SourceUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public SourceUnavailableException(String message) {
        super(message);
    }

    public SourceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
