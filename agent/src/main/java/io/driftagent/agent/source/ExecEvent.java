package io.driftagent.agent.source;

import java.util.List;
import java.util.Objects;

/**
 * One exec as the kernel saw it, or one executable file mapping ({@link Trigger#LIBRARY_LOAD}: a shared library
 * loaded into a running process, whose file then stands where the executed file does). Immutable; produced by an
 * {@link ExecSource} reader thread.
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
 * @param kernel         what the kernel told at exec time beyond the file (path, argv, credentials), or
 *                       {@link KernelFacts#NONE} where the source cannot know it; for a library load the path is
 *                       the mapped file's and argv the process's
 * @param trigger        what made the file run: an exec, or a library load (an executable mapping of the file)
 * @param processExe     for a library load: the kernel's path of the process's own executable at the mapping (its
 *                       {@code mm->exe_file}), null when unknown; always null for an exec (the file is the exe)
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
        long timestampNs,
        KernelFacts kernel,
        Trigger trigger,
        String processExe) {

    /** An exec with kernel facts. */
    public ExecEvent(int pid, int tgid, int ppid, int uid, int gid, long startTimeNs, String comm, String filename,
                     FileId file, FileId interpreter, long cgroupId, long mountNsId, Flags flags, SourceKind source,
                     long timestampNs, KernelFacts kernel) {
        this(pid, tgid, ppid, uid, gid, startTimeNs, comm, filename, file, interpreter, cgroupId, mountNsId, flags,
                source, timestampNs, kernel, Trigger.EXEC, null);
    }

    /** An event without kernel facts ({@link KernelFacts#NONE}). */
    public ExecEvent(int pid, int tgid, int ppid, int uid, int gid, long startTimeNs, String comm, String filename,
                     FileId file, FileId interpreter, long cgroupId, long mountNsId, Flags flags, SourceKind source,
                     long timestampNs) {
        this(pid, tgid, ppid, uid, gid, startTimeNs, comm, filename, file, interpreter, cgroupId, mountNsId, flags,
                source, timestampNs, KernelFacts.NONE);
    }

    public ExecEvent {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(comm, "comm");
        Objects.requireNonNull(filename, "filename");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(interpreter, "interpreter");
        Objects.requireNonNull(flags, "flags");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(trigger, "trigger");
        if (trigger == Trigger.EXEC && processExe != null) {
            throw new IllegalArgumentException("processExe is for a library load only");
        }
    }

    /** Whether this is a library load (an executable file mapping), not an exec. */
    public boolean isLibraryLoad() {
        return trigger == Trigger.LIBRARY_LOAD;
    }

    /** What made a file run in a process. */
    public enum Trigger {
        /** the file was executed (execve) */
        EXEC,
        /** the file was mapped executable into a running process: a shared library (LD_PRELOAD, dlopen) */
        LIBRARY_LOAD
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
     * @param overlayOwnerDoubtful the file's overlay device served more than one overlay in the time the exec may have
     *                   happened, and nothing else told which one was the file's (the fanotify source, whose events
     *                   carry no time): the device does not tell the exec's container, so it must not be placed by it
     */
    public record Flags(boolean overlay, boolean upperLayer, boolean memfd, boolean unlinked,
                        boolean overlayOwnerDoubtful) {
        public static final Flags NONE = new Flags(false, false, false, false);

        /** Facts of a file whose overlay, if any, is known to be the exec's. */
        public Flags(boolean overlay, boolean upperLayer, boolean memfd, boolean unlinked) {
            this(overlay, upperLayer, memfd, unlinked, false);
        }
    }

    /**
     * What the kernel told about the exec at exec time, so that nothing depends on {@code /proc} still holding the
     * process when the event is handled.
     *
     * @param path           the executed file's path resolved from its dentries, relative to the process's root (for
     *                       a containerized process: the container's root), whatever name the exec was given
     *                       ({@code /dev/fd/3}, a symlink, a relative name); null when unknown. Exact only when
     *                       {@link #pathExact()}.
     * @param pathTruncated  the path was longer than the record holds (or deeper than the walk): {@code path} is its
     *                       tail
     * @param pathOutsideRoot the walk never met the process's root: a pseudo file (memfd) or a file outside the
     *                       process's root; {@code path} is what was walked
     * @param otherMount     the file's mount is not the process's root mount (a volume, a tmpfs, a bind mount)
     * @param argv           the new image's arguments as exec'd ({@code /proc/<pid>/cmdline}'s content), empty when
     *                       unknown
     * @param argvTruncated  more arguments or bytes than the record holds: {@code argv} is a prefix
     * @param argc           the argument count the kernel gave the new image, -1 when unknown
     * @param euid           effective uid after exec, -1 when unknown
     * @param egid           effective gid after exec, -1 when unknown
     * @param loginUid       the audit login uid ({@code /proc/<pid>/loginuid}), -1 when unknown or unset
     * @param sessionId      the audit session id ({@code /proc/<pid>/sessionid}), -1 when unknown or unset
     * @param parentComm     the parent's comm, null when unknown
     * @param lineage        the process's ancestors, session leader and working directory at exec time,
     *                       {@link Lineage#NONE} when unknown
     */
    public record KernelFacts(String path, boolean pathTruncated, boolean pathOutsideRoot, boolean otherMount,
                              List<String> argv, boolean argvTruncated, int argc, long euid, long egid, long loginUid,
                              long sessionId, String parentComm, Lineage lineage) {
        public static final KernelFacts NONE = new KernelFacts(null, false, false, false, List.of(), false, -1, -1, -1,
                -1, -1, null);

        public KernelFacts {
            // an unmodifiable list of the source's own (the eBPF reader's splits its bytes only when read) is kept
            argv = argv == null ? List.of() : argv instanceof LazyArgs ? argv : List.copyOf(argv);
            if (path != null && path.isEmpty()) {
                path = null;
            }
            lineage = lineage == null ? Lineage.NONE : lineage;
        }

        /** Facts without lineage ({@link Lineage#NONE}). */
        public KernelFacts(String path, boolean pathTruncated, boolean pathOutsideRoot, boolean otherMount,
                           List<String> argv, boolean argvTruncated, int argc, long euid, long egid, long loginUid,
                           long sessionId, String parentComm) {
            this(path, pathTruncated, pathOutsideRoot, otherMount, argv, argvTruncated, argc, euid, egid, loginUid,
                    sessionId, parentComm, Lineage.NONE);
        }

        /** The path is the file's full path in the process's root: neither truncated nor outside the root. */
        public boolean pathExact() {
            return path != null && !pathTruncated && !pathOutsideRoot;
        }

        public boolean argvKnown() {
            return !argv.isEmpty();
        }
    }

    /**
     * An immutable argument list that makes its strings only when read (the eBPF reader's: most execs are never
     * alerted). Kept as it is by {@link KernelFacts}; any other list is copied.
     */
    public abstract static class LazyArgs extends java.util.AbstractList<String> {
        /** The bytes the arguments take (what keeping the list costs), without making the strings. */
        public abstract int byteLength();
    }

    /**
     * A process across pid reuse: its host tgid and its start time (ns since boot, as {@link #startTimeNs()}).
     */
    public record ProcessKey(int tgid, long startTimeNs) {
    }

    /**
     * Where the exec'ing process sits in its process tree, as the kernel told at exec time.
     *
     * @param known             the source gave lineage facts (false: {@link #NONE}, every other field empty)
     * @param parentStartTimeNs the parent's start time (with {@code ppid}, the parent's {@link ProcessKey}); 0 unknown
     * @param ancestors         the ancestors in the process's pid namespace, nearest first (at most 8); for a process
     *                          in the host's pid namespace its first ancestors
     * @param leader            the session leader: the topmost ancestor in the process's pid namespace (the process
     *                          itself when its parent is outside); null in the host's pid namespace or when unknown
     * @param leaderNsPid       the leader's pid in that namespace: 1 is the container's init; 0 when no leader
     * @param hostPidNamespace  the process is in the host's (initial) pid namespace: it has no session
     * @param cwd               the working directory's path in the process's root, null when unknown
     * @param cwdTruncated      the working directory was longer than the record holds: {@code cwd} is its tail
     */
    public record Lineage(boolean known, long parentStartTimeNs, List<ProcessKey> ancestors, ProcessKey leader,
                          int leaderNsPid, boolean hostPidNamespace, String cwd, boolean cwdTruncated) {
        public static final Lineage NONE = new Lineage(false, 0, List.of(), null, 0, false, null, false);

        public Lineage {
            ancestors = ancestors == null ? List.of() : List.copyOf(ancestors);
            if (cwd != null && cwd.isEmpty()) {
                cwd = null;
            }
        }
    }

    /** Where an event came from. */
    public enum SourceKind { EBPF, FANOTIFY }
}
