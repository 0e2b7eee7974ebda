package io.driftagent.agent.policywatch;

import java.nio.file.Path;

/**
 * Loads the policy file and, if it is valid, makes it the active policy. Returns false (or throws) when the file
 * was rejected: the previous policy stays active. The integrator adapts {@code PolicyHolder#reload(Path)}.
 */
@FunctionalInterface
public interface PolicyReloader {
    boolean reload(Path policyFile) throws Exception;
}
