package io.driftagent.agent.enforce;

import io.driftagent.agent.source.ExecEvent;
import java.util.Objects;

/**
 * One exec waiting for a decision; the process is blocked in execve until it is answered.
 *
 * <p>Each open of an execve is asked separately: for a {@code #!} script first the script ({@code event.filename()}
 * is the script; {@code script} true), then, if allowed, the interpreter; for a dynamic ELF then its ld.so. The
 * process has not finished exec, so {@code event.comm()} is what the comm will become (basename of the resolved
 * path), not the current comm.
 *
 * @param event   the same facts the notification source reports (interpreter unknown: {@link ExecEvent.FileId#NONE})
 * @param script  the file starts with {@code #!}
 * @param pending the guard's handle on the waiting exec
 */
public record ExecPermissionRequest(ExecEvent event, boolean script, PendingExec pending) {
    public ExecPermissionRequest {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(pending, "pending");
    }

    /** A request no guard holds (for tests and tools). */
    public ExecPermissionRequest(ExecEvent event, boolean script) {
        this(event, script, PendingExec.NONE);
    }
}
