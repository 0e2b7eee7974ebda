package io.driftagent.agent.enforce;

import io.driftagent.agent.source.ExecEvent;
import java.util.Objects;

/**
 * One exec waiting for a decision; the process is blocked in execve until it is answered.
 *
 * <p>{@link #event()} holds what the decision needs and no more: the file's facts from the event's fd and the process's
 * placement (cgroup, mount namespace: its container; read from /proc, or, for an exec of a file on an overlay whose
 * execs were placed before, that placement, checked after the answer: then only an allowing answer is given on it, a
 * denial is decided again on the placement read); the process's other details (parent, uid, gid, start time) are
 * read from /proc only for a report ({@link #reportedEvent()}): an allowed exec, which is not reported, never waits
 * for them.
 *
 * <p>Each open of an execve is asked separately: for a {@code #!} script first the script ({@code event.filename()}
 * is the script; {@code script} true), then, if allowed, the interpreter; for a dynamic ELF then its ld.so. The
 * process has not finished exec, so {@code event.comm()} is what the comm will become (basename of the resolved
 * path), not the current comm.
 *
 * @param event   the same facts the notification source reports (interpreter unknown: {@link ExecEvent.FileId#NONE})
 * @param script  the file starts with {@code #!}
 * @param pending the guard's handle on the waiting exec
 * @param details completes the event with the process's details, read when called
 */
public record ExecPermissionRequest(ExecEvent event, boolean script, PendingExec pending, ProcessDetails details) {
    public ExecPermissionRequest {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(pending, "pending");
        Objects.requireNonNull(details, "details");
    }

    /** A request whose event is complete already. */
    public ExecPermissionRequest(ExecEvent event, boolean script, PendingExec pending) {
        this(event, script, pending, ProcessDetails.NONE);
    }

    /** A request no guard holds (for tests and tools). */
    public ExecPermissionRequest(ExecEvent event, boolean script) {
        this(event, script, PendingExec.NONE);
    }

    /**
     * The event to report: {@link #event()} with the process's details read from /proc now. For a denial, call it
     * before answering: the process waits in execve and is certainly there (a denied exec's latency does not matter,
     * and after the answer a shell's child exits as soon as execve fails). After an answer (a denial by default) the
     * process may be gone: its details then stay unknown, which the guard counts.
     */
    public ExecEvent reportedEvent() {
        return details.complete(event);
    }

    /** Completes a decision's event with the process's details (parent, uid, gid, start time). */
    @FunctionalInterface
    public interface ProcessDetails {
        ProcessDetails NONE = event -> event;

        ExecEvent complete(ExecEvent decided);
    }
}
