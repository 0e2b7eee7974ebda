package io.driftagent.agent.source.ebpf;

import java.nio.ByteBuffer;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;

/** The libc calls that map and wait on the BPF ring buffer (see {@link MappedRingBuffer}). */
public interface LibcMemory {
    /** Returns the mapping, or a pointer at address -1 (MAP_FAILED) with errno set. */
    @SaveError
    Pointer mmap(Pointer address, @size_t long length, int protection, int flags, int fd, @off_t long offset);

    int munmap(Pointer address, @size_t long length);

    @SaveError
    int poll(ByteBuffer fds, int count, int timeoutMs);

    int getpagesize();

    @SaveError
    int eventfd(int initialValue, int flags);

    long write(int fd, ByteBuffer buffer, @size_t long count);

    int close(int fd);
}
