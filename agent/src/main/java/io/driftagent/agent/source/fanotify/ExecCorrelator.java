package io.driftagent.agent.source.fanotify;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Folds the several FAN_OPEN_EXEC events of one execve into one exec. Within one execve of pid P the kernel
 * opens, in order: the file exec'd; for a {@code #!} script the interpreter; for an ELF with PT_INTERP the ELF
 * interpreter (ld.so). When both an overlay and the filesystem under its layers are marked, each open is reported
 * twice: first the layer's real inode, then the overlay inode (same inode number, different device / mount).
 *
 * <p>Rules, per pid, for events arriving within {@code windowNanos} of the group's previous event:
 * <ul>
 *   <li>same inode number as the group's last part, on a different dev or mount, one of the two an overlay's own
 *   inode: the twin of that open; merged (files of two plain filesystems that share an inode number are two
 *   execs);</li>
 *   <li>the exec'd file starts with {@code #!} and no interpreter is recorded yet: the interpreter, unless the
 *   {@code #!} path resolves (inside the process's root) to another inode: then the interpreter's event was merged
 *   away by the kernel and this is a new execve;</li>
 *   <li>the last part is an ELF with PT_INTERP and this is an ELF without one (and, where the PT_INTERP path
 *   resolves, that very inode): its ld.so; absorbed, not an exec;</li>
 *   <li>anything else: a new execve by the same pid; the previous group is emitted first.</li>
 * </ul>
 * A group is emitted when its window passes without a fitting event and every event queued before its last one has
 * been read: the window is on the read clock, and a reader that fell behind (each event costs it a few system calls)
 * may read the twin report of an open well after the first, though the kernel queued both at once. So an event read
 * past the window still folds when it may have been queued within it (it was not read by a read that emptied the queue
 * and began after the window), and a group waits for such a read before it is emitted; at most {@link #HOLD_MAX_NANOS}
 * in both cases. Not thread-safe: the reader thread owns it.
 */
public final class ExecCorrelator {

    /** One open of the exec chain: what the fd said and where it is relative to overlays. */
    public record Part(ExecutedFile file, LayerResolution layer) {}

    /** A finished exec: the exec'd file (merged over twins) and the interpreter of a script, if seen. */
    static final class Group {
        final int pid;
        final long firstSeenNanos;
        /** the exec's first event was queued after this (the start of the last read that emptied the queue) */
        long queuedAfterNanos;
        final ProcessFacts process;
        final List<Part> primary = new ArrayList<>(2);
        final List<Part> interpreter = new ArrayList<>(2);
        Part last;
        boolean lastAbsorbed;
        boolean awaitingInterpreter;
        boolean awaitingElfInterpreter;
        long lastSeenNanos;
        /** {dev, ino} the script's #! line resolves to in the process's root, when it could be resolved */
        long[] expectedInterpreter;
        /** {dev, ino} of the PT_INTERP (ld.so) of the last ELF, when it could be resolved */
        long[] expectedElfInterpreter;
        /** set when the interpreter's own event never came because the kernel merged it (see fold) */
        long[] mergedInterpreter;

        Group(int pid, long now, ProcessFacts process, Part first) {
            this.pid = pid;
            this.firstSeenNanos = now;
            this.process = process;
            primary.add(first);
            last = first;
            lastSeenNanos = now;
            awaitingInterpreter = first.file().format() == ExecutedFile.Format.SCRIPT;
            awaitingElfInterpreter = first.file().format() == ExecutedFile.Format.ELF_WITH_INTERPRETER;
        }
    }

    /** Where a file's {@link ExecutedFile#interpreterPath()} is, as {dev, ino}, or null when it cannot be told. */
    @FunctionalInterface
    interface InterpreterLocator {
        long[] locate(int pid, Part script);
    }

    /** The longest a group waits for the rest of its execve's events while the reader is behind the kernel's queue. */
    static final long HOLD_MAX_NANOS = 1_000_000_000L;

    private final long windowNanos;
    private final Consumer<Group> emitter;
    private final InterpreterLocator interpreters;
    private final Map<Integer, Group> open = new HashMap<>();
    private long unverifiedNotAbsorbed;

    ExecCorrelator(long windowNanos, Consumer<Group> emitter, InterpreterLocator interpreters) {
        this.windowNanos = windowNanos;
        this.emitter = emitter;
        this.interpreters = interpreters;
    }

    /** @param processFacts read lazily, only when a new exec starts */
    void accept(int pid, Part part, long now, java.util.function.IntFunction<ProcessFacts> processFacts) {
        accept(pid, part, now, now, processFacts);
    }

    /**
     * @param queuedAfter  a time before the event was queued (fanotify events carry no time of their own)
     * @param processFacts read lazily, only when a new exec starts
     */
    void accept(int pid, Part part, long now, long queuedAfter, java.util.function.IntFunction<ProcessFacts> processFacts) {
        Group g = open.get(pid);
        if (g != null && mayFold(g, now, queuedAfter) && fold(g, part)) {
            g.lastSeenNanos = now;
            return;
        }
        if (g != null) {
            open.remove(pid);
            emitter.accept(g);
        }
        Group fresh = new Group(pid, now, processFacts.apply(pid), part);
        fresh.queuedAfterNanos = queuedAfter;
        if (fresh.awaitingInterpreter) {
            fresh.expectedInterpreter = interpreters.locate(pid, part);
        }
        if (fresh.awaitingElfInterpreter) {
            fresh.expectedElfInterpreter = interpreters.locate(pid, part);
        }
        open.put(pid, fresh);
    }

    /**
     * Whether an event read at {@code now}, queued after {@code queuedAfter}, may belong to the group's execve by its
     * time: read within the window of the group's last event, or (the reader behind) possibly queued within it.
     */
    private boolean mayFold(Group g, long now, long queuedAfter) {
        long sinceLast = now - g.lastSeenNanos;
        return sinceLast <= windowNanos || queuedAfter - g.lastSeenNanos <= windowNanos && sinceLast <= HOLD_MAX_NANOS;
    }

    private boolean fold(Group g, Part part) {
        ExecutedFile f = part.file();
        ExecutedFile last = g.last.file();
        if (f.ino() == last.ino() && (f.dev() != last.dev() || f.mountId() != last.mountId())
                && (f.onOverlay() || last.onOverlay())) {
            if (!g.lastAbsorbed) {
                (g.interpreter.isEmpty() ? g.primary : g.interpreter).add(part);
            }
            // keep `last` as the first-seen open so a third report of the same open still matches
            return true;
        }
        if (g.awaitingInterpreter && g.expectedInterpreter != null && f.ino() != g.expectedInterpreter[1]) {
            // fanotify merges an event into an identical unread one (same pid, file, mask): when the interpreter was
            // exec'd just before (the shell that exec'd the script), its second open is not reported, and this open
            // is the script's next execve, not its interpreter
            g.awaitingInterpreter = false;
            g.mergedInterpreter = g.expectedInterpreter;
            return false;
        }
        if (g.awaitingInterpreter && g.expectedInterpreter == null && mayBeDrift(part)) {
            // interpreter unverified (its #! path could not be resolved: the process and its root gone), and this file
            // is not where an interpreter would be: it may be the script's next execve after the kernel merged the
            // interpreter's event away, and an exec that may be drift is never absorbed on a guess
            g.awaitingInterpreter = false;
            unverifiedNotAbsorbed++;
            return false;
        }
        if (g.awaitingInterpreter) {
            g.interpreter.add(part);
            g.last = part;
            g.lastAbsorbed = false;
            g.awaitingInterpreter = false;
            g.awaitingElfInterpreter = f.format() == ExecutedFile.Format.ELF_WITH_INTERPRETER;
            if (g.awaitingElfInterpreter) {
                g.expectedElfInterpreter = interpreters.locate(g.pid, part);
            }
            return true;
        }
        if (g.awaitingElfInterpreter && g.expectedElfInterpreter != null && f.ino() != g.expectedElfInterpreter[1]) {
            // as above: ld.so's event merged into an earlier identical one of this pid; this is a new execve
            g.awaitingElfInterpreter = false;
            return false;
        }
        if (g.awaitingElfInterpreter && f.format() == ExecutedFile.Format.ELF_STANDALONE
                && g.expectedElfInterpreter == null && !mayBeItsLoader(g, part)) {
            // ld.so unverified (its PT_INTERP path could not be resolved: the process and its root gone), and this
            // file is not where an ld.so of this exec would be (a writable layer's, a volume's): an exec that may be
            // drift is never absorbed on a guess
            g.awaitingElfInterpreter = false;
            unverifiedNotAbsorbed++;
            return false;
        }
        if (g.awaitingElfInterpreter && f.format() == ExecutedFile.Format.ELF_STANDALONE) {
            g.last = part;
            g.lastAbsorbed = true;
            g.awaitingElfInterpreter = false;
            return true;
        }
        return false;
    }

    /** A writable layer's file, or one deleted: drift if exec'd, so never another exec's interpreter on a guess. */
    private static boolean mayBeDrift(Part part) {
        return part.layer().upperLayer() || part.file().nlink() == 0;
    }

    /**
     * Whether an unverified static ELF may be the ld.so of the group's last exec: an image layer's file for an exec on
     * an overlay, a file on no overlay for one that is not; never a writable layer's file.
     */
    private static boolean mayBeItsLoader(Group g, Part part) {
        if (part.layer().upperLayer()) {
            return false;
        }
        return g.last.layer().overlay() == part.layer().overlay();
    }

    /**
     * Files that followed a script's or a dynamic ELF's exec by the same pid, interpreter or ld.so unverified, taken as
     * execs of their own (see {@link #fold}).
     */
    long unverifiedNotAbsorbed() {
        return unverifiedNotAbsorbed;
    }

    /**
     * Emits the groups whose window passed and whose execve's events have all been read: a read that emptied the
     * kernel's queue began ({@code queueEmptiedAt}) after the group's last event was read; or held too long.
     */
    void flushExpired(long now, long queueEmptiedAt) {
        for (Iterator<Group> it = open.values().iterator(); it.hasNext(); ) {
            Group g = it.next();
            long sinceLast = now - g.lastSeenNanos;
            if (sinceLast > windowNanos && (queueEmptiedAt > g.lastSeenNanos || sinceLast > HOLD_MAX_NANOS)) {
                it.remove();
                emitter.accept(g);
            }
        }
    }

    void flushAll() {
        List<Group> all = new ArrayList<>(open.values());
        open.clear();
        all.forEach(emitter);
    }

    /** Nanos until the earliest group's window passes; -1 when nothing is open. */
    long nanosUntilNextExpiry(long now) {
        long min = Long.MAX_VALUE;
        for (Group g : open.values()) {
            min = Math.min(min, g.lastSeenNanos + windowNanos - now);
        }
        return min == Long.MAX_VALUE ? -1 : Math.max(0, min);
    }

    int openGroups() {
        return open.size();
    }
}
