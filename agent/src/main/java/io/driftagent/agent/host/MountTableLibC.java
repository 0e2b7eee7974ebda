package io.driftagent.agent.host;

import java.nio.ByteBuffer;
import jnr.ffi.annotations.SaveError;

/** The libc calls that wait for a change of a mount table: open it, poll(2) it for POLLPRI, close it. */
@SaveError
public interface MountTableLibC {

    int open(String pathname, int flags);

    int poll(ByteBuffer fds, long nfds, int timeoutMs);

    int close(int fd);
}
