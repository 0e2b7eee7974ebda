package io.driftagent.agent.source.fanotify;

/**
 * Decides whether an exec may proceed. Runs on the guard's worker threads with a deadline: a decider that throws, returns
 * null or does not return in time gets the guard's default answer instead (counted by reason), so it cannot freeze
 * the workload. It should still be quick: the exec'ing process waits for it.
 */
@FunctionalInterface
public interface ExecPermissionDecider {
    PermissionDecision decide(ExecPermissionRequest request) throws Exception;
}
