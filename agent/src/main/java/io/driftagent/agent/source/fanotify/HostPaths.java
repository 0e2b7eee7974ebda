package io.driftagent.agent.source.fanotify;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Where an event's file is on its filesystem as a mount of that filesystem's root shows it: the file is re-opened by
 * its handle ({@code name_to_handle_at} / {@code open_by_handle_at}) through the host root's mount, and that open's
 * path read. A file opened through overlay's private clone of a layer reports a path relative to the layer directory
 * ({@code /tmp/x}); through the root's mount the same dentry names the layer too
 * ({@code /var/lib/containerd/.../snapshots/12/fs/tmp/x}), even after the layer was deleted, while the event holds
 * the file. Needs CAP_DAC_READ_SEARCH; null when it cannot be told. Not thread-safe: one per thread.
 */
final class HostPaths {

    private static final int MAX_HANDLE_SZ = 128;
    private static final int O_PATH = 0x200000;
    private static final String DELETED_SUFFIX = " (deleted)";

    private final LinuxLibC libc;
    private final int rootFd;
    private final ByteBuffer handle = ByteBuffer.allocateDirect(8 + MAX_HANDLE_SZ).order(ByteOrder.nativeOrder());
    private final ByteBuffer mountId = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
    private final ByteBuffer link = ByteBuffer.allocateDirect(4096);
    private final byte[] bytes = new byte[4096];

    /** @param rootFd an open fd of the root directory of the filesystem's root mount (e.g. the host's "/") */
    HostPaths(LinuxLibC libc, int rootFd) {
        this.libc = libc;
        this.rootFd = rootFd;
    }

    /** Closes the root's fd. */
    void close() {
        if (rootFd >= 0) {
            libc.close(rootFd);
        }
    }

    /** The path of the file behind {@code fd} through the root's mount, " (deleted)" stripped; null when unknown. */
    String of(int fd) {
        if (rootFd < 0) {
            return null;
        }
        handle.clear();
        handle.putInt(0, MAX_HANDLE_SZ);
        if (libc.name_to_handle_at(fd, "", handle, mountId, Native.AT_EMPTY_PATH) != 0) {
            return null;
        }
        int reopened = libc.open_by_handle_at(rootFd, handle, O_PATH | Native.O_CLOEXEC);
        if (reopened < 0) {
            return null;
        }
        try {
            link.clear();
            long n = libc.readlink("/proc/self/fd/" + reopened, link, link.capacity());
            if (n <= 0 || n >= link.capacity()) {
                return null;
            }
            link.get(0, bytes, 0, (int) n);
            String path = new String(bytes, 0, (int) n, StandardCharsets.UTF_8);
            return path.endsWith(DELETED_SUFFIX) ? path.substring(0, path.length() - DELETED_SUFFIX.length()) : path;
        } finally {
            libc.close(reopened);
        }
    }
}
