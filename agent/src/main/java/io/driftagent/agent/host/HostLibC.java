package io.driftagent.agent.host;

import java.nio.ByteBuffer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls every native binding of the agent shares, bound once here: the file-access ({@code fs.LibC}),
 * fanotify ({@code source.fanotify.LinuxLibC}) and eBPF ring ({@code source.ebpf.LibcMemory}) bindings extend it with
 * their own calls, and the host mount table watcher uses it alone. Buffers are direct {@link ByteBuffer}s owned by the
 * caller (passed by address, no copy); errno is saved after each call.
 */
public interface HostLibC {

    @SaveError
    int open(String pathname, int flags);

    @SaveError
    int close(int fd);

    /** {@code fds}: {@code nfds} {@code struct pollfd}s (int fd, short events, short revents). */
    @SaveError
    int poll(ByteBuffer fds, long nfds, int timeoutMs);

    @SaveError
    int eventfd(int initialValue, int flags);

    @SaveError
    @ssize_t long write(int fd, ByteBuffer buf, @size_t long count);
}
