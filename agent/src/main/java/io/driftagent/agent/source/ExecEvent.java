package io.driftagent.agent.source;

import java.util.Objects;

/**
 * One exec as the kernel saw it. Immutable; produced by an {@link ExecSource} reader thread.
 *
 * @param pid            the thread id that exec'd (kernel pid)
 * @param tgid           the process id (kernel tgid)
 * @param ppid           the parent's tgid
 * @param uid            real uid
 * @param gid            real gid
 * @param startTimeNs    task start time (ns since boot); with tgid it identifies the process
 * @param comm           the task's comm after exec (at most 15 bytes)
 * @param filename       the file name as exec'd: for a {@code #!} script the script, not the interpreter
 * @param file           dev/ino of the executed file (for a script: the script)
 * @param interpreter    dev/ino of the interpreter for a {@code #!} script, else {@link FileId#NONE}
 * @param cgroupId       the cgroup v2 id (inode of the cgroup directory on the unified hierarchy), 0 if unknown
 * @param mountNsId      inode number of the mount namespace, 0 if unknown
 * @param flags          facts about the executed file computed where the event was captured
 * @param source         which source captured this event
 * @param timestampNs    capture time, CLOCK_MONOTONIC ns (the kernel's bpf_ktime_get_ns or System.nanoTime())
 */
public record ExecEvent(
        int pid,
        int tgid,
        int ppid,
        int uid,
        int gid,
        long startTimeNs,
        String comm,
        String filename,
        FileId file,
        FileId interpreter,
        long cgroupId,
        long mountNsId,
        Flags flags,
        SourceKind source,
        long timestampNs) {

    public ExecEvent {
        Objects.requireNonNull(comm, "comm");
        Objects.requireNonNull(filename, "filename");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(interpreter, "interpreter");
        Objects.requireNonNull(flags, "flags");
        Objects.requireNonNull(source, "source");
    }

    /** Device and inode of a file; dev in the kernel's encoding ({@code new_encode_dev}, as stat(2) reports). */
    public record FileId(long dev, long ino) {
        public static final FileId NONE = new FileId(0, 0);

        public boolean isKnown() {
            return ino != 0;
        }
    }

    /**
     * Facts about the executed file.
     *
     * @param overlay    the file is on an overlayfs superblock
     * @param upperLayer on overlayfs, the file's inode has an upper (writable-layer) dentry: it was created or copied up
     * @param memfd      the file is a memfd (memfd_create)
     * @param unlinked   the file had nlink == 0 at exec (deleted, or memfd)
     */
    public record Flags(boolean overlay, boolean upperLayer, boolean memfd, boolean unlinked) {
        public static final Flags NONE = new Flags(false, false, false, false);
    }

    /** Where an event came from. */
    public enum SourceKind { EBPF, FANOTIFY }
}
