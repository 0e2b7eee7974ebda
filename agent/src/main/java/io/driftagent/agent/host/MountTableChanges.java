package io.driftagent.agent.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits for the next change of a mount namespace's mount table: {@code /proc/<pid>/mountinfo} reports
 * {@code POLLPRI | POLLERR} to poll(2) once after every mount or unmount in that namespace (the kernel compares the
 * namespace's event counter with the one the open file last saw). Without libc (jnr-ffi unavailable) it degrades to
 * waiting the whole timeout, which the caller's periodic re-read covers; said once at start.
 */
final class MountTableChanges implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MountTableChanges.class);
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final short POLLPRI = 0x2;
    private static final short POLLERR = 0x8;
    private static final int EINTR = 4;

    private final HostLibC libc;
    private final jnr.ffi.Runtime runtime;
    private final int fd;
    private final ByteBuffer fds = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());

    private MountTableChanges(HostLibC libc, int fd) {
        this.libc = libc;
        this.runtime = libc == null ? null : jnr.ffi.Runtime.getRuntime(libc);
        this.fd = fd;
    }

    /** Watches {@code mountInfo}; a watcher that only times out when poll(2) cannot be had (logged). */
    static MountTableChanges open(Path mountInfo) {
        try {
            HostLibC libc = LibraryLoader.create(HostLibC.class).failImmediately().load("c");
            int fd = libc.open(mountInfo.toString(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw new IOException("open " + mountInfo + " failed, errno "
                        + jnr.ffi.Runtime.getRuntime(libc).getLastError());
            }
            return new MountTableChanges(libc, fd);
        } catch (IOException | RuntimeException | LinkageError e) {
            LOG.warn("cannot poll {} for mount changes ({}): its changes are found by re-reading it periodically",
                    mountInfo, e.toString());
            return new MountTableChanges(null, -1);
        }
    }

    /** Whether changes are signalled (else {@link #await} only sleeps). */
    boolean signalled() {
        return fd >= 0;
    }

    /** Waits up to {@code timeoutMs}; true when the mount table changed (or may have: an error is reported as a change). */
    boolean await(int timeoutMs) throws InterruptedException {
        if (fd < 0) {
            Thread.sleep(timeoutMs);
            return true;
        }
        fds.putInt(0, fd).putShort(4, POLLPRI).putShort(6, (short) 0);
        int n = libc.poll(fds, 1, timeoutMs);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (n < 0) {
            if (runtime.getLastError() != EINTR) {
                Thread.sleep(Math.min(timeoutMs, 100));
            }
            return true;
        }
        return n > 0 && (fds.getShort(6) & (POLLPRI | POLLERR)) != 0;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            libc.close(fd);
        }
    }
}
