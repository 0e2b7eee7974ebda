package io.driftagent.agent.source.ebpf;

import static io.driftagent.agent.host.Errno.EINTR;

import io.driftagent.agent.host.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.Runtime;

/**
 * How the exec reader sleeps, so that {@link #wakeup()} (closing) ends any sleep at once: on the doorbell ring, which
 * the exec program rings when the reader's state asks for it (see {@code exec.bpf.c}), or for a fixed time. Both are
 * one poll(2) that includes an eventfd. The reader never waits on the events ring itself: records go into it without
 * waking anybody, so that an exec storm costs no wakeup per exec.
 */
final class ReaderWait implements AutoCloseable {
    private static final short POLLIN = 0x1;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EFD_NONBLOCK = 0x800;
    private static final MappedRingBuffer.RecordHandler IGNORE = (memory, offset, length) -> { };

    private final LibcMemory libc;
    private final Runtime runtime;
    private final MappedRingBuffer doorbell;
    private final int wakeFd;
    /** pollfd[0] = the eventfd, pollfd[1] = the doorbell: a timed sleep polls only the first. */
    private final ByteBuffer pollFds = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());

    /** @param doorbell the mapped doorbell ring; closed with this */
    ReaderWait(LibcMemory libc, Runtime runtime, MappedRingBuffer doorbell) throws IOException {
        this.libc = libc;
        this.runtime = runtime;
        this.doorbell = doorbell;
        this.wakeFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wakeFd < 0) {
            throw new IOException("eventfd failed: " + Errno.describe(-runtime.getLastError()));
        }
        pollFds.putInt(0, wakeFd).putShort(4, POLLIN);
        pollFds.putInt(8, doorbell.mapFd()).putShort(12, POLLIN);
    }

    /**
     * Sleeps until the doorbell rings (or has rung since the last {@link #clearDoorbell()}), {@link #wakeup()}, or
     * {@code timeoutMs}. Returns whether the doorbell rang.
     *
     * @throws IOException if poll(2) fails for another reason than a signal
     */
    boolean awaitDoorbell(int timeoutMs) throws IOException {
        return poll(2, timeoutMs) && (pollFds.getShort(14) & POLLIN) != 0;
    }

    /** Sleeps {@code millis}, or until {@link #wakeup()}. */
    void sleep(int millis) throws IOException {
        poll(1, millis);
    }

    /**
     * Consumes the doorbell's records, so the program's next ring wakes the reader again. Call before draining the
     * events ring: a record committed after that drain then still finds the doorbell empty and rings it.
     */
    void clearDoorbell() {
        doorbell.drain(IGNORE);
    }

    /** Ends a current (or the next) sleep at once; stays signalled. For closing. */
    void wakeup() {
        ByteBuffer one = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).putLong(0, 1L);
        libc.write(wakeFd, one, 8);
    }

    private boolean poll(int fds, int timeoutMs) throws IOException {
        pollFds.putShort(6, (short) 0).putShort(14, (short) 0);
        int n = libc.poll(pollFds, fds, timeoutMs);
        if (n < 0) {
            int err = runtime.getLastError();
            if (err == EINTR) {
                return false;
            }
            throw new IOException("poll on the exec reader's doorbell failed: " + Errno.describe(-err));
        }
        return n > 0;
    }

    @Override
    public void close() {
        libc.close(wakeFd);
        doorbell.close();
    }
}
