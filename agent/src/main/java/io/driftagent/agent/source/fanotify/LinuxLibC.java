package io.driftagent.agent.source.fanotify;

import java.nio.ByteBuffer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.ssize_t;

/**
 * The few libc entry points the fanotify bridge needs, bound through jnr-ffi. Buffers are direct
 * {@link ByteBuffer}s owned by the caller (passed by address, no copy). Not thread-confined: libc is.
 */
@SaveError
public interface LinuxLibC {

    int fanotify_init(int flags, int eventFileFlags);

    int fanotify_mark(int fanotifyFd, int flags, long mask, int dirFd, String pathname);

    @ssize_t long read(int fd, ByteBuffer buf, long count);

    @ssize_t long pread(int fd, ByteBuffer buf, long count, long offset);

    @ssize_t long write(int fd, ByteBuffer buf, long count);

    int close(int fd);

    int poll(ByteBuffer fds, long nfds, int timeoutMs);

    int eventfd(int initialValue, int flags);

    int statx(int dirFd, String pathname, int flags, int mask, ByteBuffer statxBuf);

    int fstatfs(int fd, ByteBuffer statfsBuf);

    @ssize_t long readlink(String pathname, ByteBuffer buf, long size);

    int open(String pathname, int flags);
}
