package io.driftagent.systest.pod;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;

/**
 * Single threads of the agent's JVM in its container, held and released from the node with ptrace(2)
 * ({@code PTRACE_SEIZE} + {@code PTRACE_INTERRUPT} stops one thread, the others run on; {@code PTRACE_DETACH} lets it
 * go): what a loaded node does to a watcher that is late, made to happen every time. The agent runs in its own pid
 * and mount namespace, so this is the only way in. Every call must come from the thread that made this object (the
 * kernel ties a tracee to the tracing thread); {@link #close()} releases whatever is still held. Needs root.
 */
public final class AgentThreadHold implements AutoCloseable {

    /** The libc calls (ptrace is variadic in glibc; its four integer arguments pass the same way). */
    public interface LibC {
        @SaveError
        long ptrace(long request, int pid, long addr, long data);

        @SaveError
        int waitpid(int pid, ByteBuffer status, int options);
    }

    private static final long PTRACE_DETACH = 17;
    private static final long PTRACE_SEIZE = 0x4206;
    private static final long PTRACE_INTERRUPT = 0x4207;
    private static final int WALL = 0x40000000;

    private final LibC libc = LibraryLoader.create(LibC.class).failImmediately().load("c");
    private final jnr.ffi.Runtime runtime = jnr.ffi.Runtime.getRuntime(libc);
    private final long pid;
    private final Thread owner = Thread.currentThread();
    private final Set<Integer> held = new LinkedHashSet<>();

    /** The threads of process {@code pid} (a host pid). */
    public AgentThreadHold(long pid) {
        this.pid = pid;
    }

    /**
     * The thread ids of the process's threads whose name starts with {@code name}'s first 15 characters (what the
     * kernel keeps of a Java thread's name).
     */
    public List<Integer> named(String name) throws IOException {
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        List<Integer> tids = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().equals(comm)) {
                        tids.add(Integer.parseInt(task.getFileName().toString()));
                    }
                } catch (IOException exited) {
                    // a thread that ended while listed
                }
            }
        }
        if (tids.isEmpty()) {
            throw new AssertionError("no thread named " + comm + " in process " + pid);
        }
        return tids;
    }

    /** Stops thread {@code tid} and waits until it is stopped. */
    public void hold(int tid) {
        onOwner();
        if (libc.ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
            throw new AssertionError("ptrace(PTRACE_SEIZE, " + tid + "): errno " + runtime.getLastError());
        }
        held.add(tid);
        if (libc.ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0) {
            throw new AssertionError("ptrace(PTRACE_INTERRUPT, " + tid + "): errno " + runtime.getLastError());
        }
        ByteBuffer status = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
        if (libc.waitpid(tid, status, WALL) != tid) {
            throw new AssertionError("waitpid(" + tid + "): errno " + runtime.getLastError());
        }
    }

    /** Lets thread {@code tid} run on. */
    public void release(int tid) {
        onOwner();
        if (held.remove(tid) && libc.ptrace(PTRACE_DETACH, tid, 0, 0) != 0) {
            throw new AssertionError("ptrace(PTRACE_DETACH, " + tid + "): errno " + runtime.getLastError());
        }
    }

    private void onOwner() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("ptrace calls must come from the thread that made this hold");
        }
    }

    @Override
    public void close() {
        for (Integer tid : List.copyOf(held)) {
            release(tid);
        }
    }
}
