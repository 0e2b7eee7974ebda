package io.driftagent.agent.policywatch;

import java.nio.file.Path;

/**
 * Loads the policy from the bytes the watcher read (and hashed) and, if it is valid, makes it the active policy.
 * Returns false (or throws) when it was rejected: the previous policy stays active. The integrator adapts
 * {@code PolicyHolder#reload(String, byte[])}; loading the bytes given, never the file again, means a swap between
 * the watcher's read and the load cannot put content in force that the watcher did not see.
 */
@FunctionalInterface
public interface PolicyReloader {
    /**
     * @param policyFile the file the content was read from (for messages)
     * @param content    the file's content as read, at most one byte beyond the loader's size limit
     */
    boolean reload(Path policyFile, byte[] content) throws Exception;
}
