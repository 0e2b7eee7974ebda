package io.driftagent.agent.sandbox;

import java.util.Objects;

/** A sandbox step failed; the message names the step and the cause, {@link #reason()} classifies it. */
public class SandboxException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a sandbox could not be had (a stable code, used as a metric tag). */
    public enum Reason {
        /** no static busybox to build the image layer from */
        NO_BUSYBOX,
        /** no cgroup v2 (unified) hierarchy mounted (a cgroup v1 node) */
        NO_CGROUP_V2,
        /** the overlay mount was refused: EACCES/EPERM/EROFS (missing CAP_DAC_OVERRIDE, AppArmor, SELinux, ...) */
        MOUNT_DENIED,
        /** any other set-up step (directories, the mount for another reason, the cgroup) */
        SETUP_FAILED,
        /** running a command in the sandbox failed (interrupted, timed out, could not start) */
        RUN_FAILED
    }

    private final Reason reason;

    public SandboxException(String message) {
        this(Reason.SETUP_FAILED, message, null);
    }

    public SandboxException(String message, Throwable cause) {
        this(Reason.SETUP_FAILED, message, cause);
    }

    public SandboxException(Reason reason, String message) {
        this(reason, message, null);
    }

    public SandboxException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
