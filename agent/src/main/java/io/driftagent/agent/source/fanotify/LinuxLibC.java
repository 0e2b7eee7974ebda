package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.host.HostLibC;
import java.nio.ByteBuffer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.ssize_t;

/**
 * The libc entry points only the fanotify bridge needs, bound through jnr-ffi (open, close, poll, eventfd and write
 * are {@link HostLibC}'s). Buffers are direct
 * {@link ByteBuffer}s owned by the caller (passed by address, no copy). Not thread-confined: libc is.
 */
@SaveError
public interface LinuxLibC extends HostLibC {

    int fanotify_init(int flags, int eventFileFlags);

    int fanotify_mark(int fanotifyFd, int flags, long mask, int dirFd, String pathname);

    @ssize_t long read(int fd, ByteBuffer buf, long count);

    @ssize_t long pread(int fd, ByteBuffer buf, long count, long offset);

    int statx(int dirFd, String pathname, int flags, int mask, ByteBuffer statxBuf);

    int fstatfs(int fd, ByteBuffer statfsBuf);

    @ssize_t long readlink(String pathname, ByteBuffer buf, long size);

    /** {@code handle}: a {@code struct file_handle} with room for its bytes; {@code mountId}: an int written. */
    int name_to_handle_at(int dirFd, String pathname, ByteBuffer handle, ByteBuffer mountId, int flags);

    int open_by_handle_at(int mountFd, ByteBuffer handle, int flags);

}
