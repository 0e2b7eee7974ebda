package io.driftagent.agent.sandbox;

/** A sandbox step failed; the message names the step and the cause. */
public class SandboxException extends Exception {
    private static final long serialVersionUID = 1L;

    public SandboxException(String message) {
        super(message);
    }

    public SandboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
