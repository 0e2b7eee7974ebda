package io.driftagent.agent.config;

import java.util.List;

/** The configuration is invalid; {@link #problems()} names every bad or unknown key and where it came from. */
public class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super("invalid configuration:\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
