package io.driftagent.agent.assembly;

/** A real component could not be built from the configuration; the message says which and why. */
public class AssemblyException extends Exception {
    private static final long serialVersionUID = 1L;

    public AssemblyException(String message) {
        super(message);
    }

    public AssemblyException(String message, Throwable cause) {
        super(message, cause);
    }
}
