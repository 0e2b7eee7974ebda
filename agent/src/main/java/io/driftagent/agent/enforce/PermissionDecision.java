package io.driftagent.agent.enforce;

/** The answer to one FAN_OPEN_EXEC_PERM event. */
public enum PermissionDecision {
    ALLOW,
    /**
     * Allow, and this file may run again without asking until its content changes: what the file is (an image file)
     * does not depend on who runs it or on the policy. The guard remembers it in the kernel only where the kernel
     * can enforce "until modified" (see {@link FanotifyExecGuard}); elsewhere it is a plain {@link #ALLOW}.
     */
    ALLOW_UNTIL_MODIFIED,
    DENY;

    boolean allows() {
        return this != DENY;
    }
}
