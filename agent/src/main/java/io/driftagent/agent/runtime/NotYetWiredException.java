package io.driftagent.agent.runtime;

import java.util.List;

/** This build cannot run the agent: the named parts are not wired into {@link AgentAssembly} yet. */
public class NotYetWiredException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> parts;

    public NotYetWiredException(List<String> parts) {
        super("not yet wired in this build: " + String.join("; ", parts));
        this.parts = List.copyOf(parts);
    }

    public List<String> parts() {
        return parts;
    }
}
