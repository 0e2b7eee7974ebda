package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.host.HostLibC;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;

/** The libc calls that map the BPF ring buffer (see {@link MappedRingBuffer}); it waits through {@link HostLibC}'s. */
public interface LibcMemory extends HostLibC {
    /** Returns the mapping, or a pointer at address -1 (MAP_FAILED) with errno set. */
    @SaveError
    Pointer mmap(Pointer address, @size_t long length, int protection, int flags, int fd, @off_t long offset);

    int munmap(Pointer address, @size_t long length);

    /** mount(2); {@code data} may be null. */
    @SaveError
    int mount(String source, String target, String filesystemType, long flags, String data);

    int getpagesize();
}
