package io.driftagent.agent.fs;

import io.driftagent.agent.host.HostLibC;
import java.nio.ByteBuffer;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The libc calls this package needs besides {@link HostLibC}'s, bound with jnr-ffi. Paths are NUL-terminated byte arrays so that file names
 * that are not valid UTF-8 reach the kernel unchanged. {@code syscall} is variadic in C; calling it with a fixed
 * list of integer/pointer arguments is ABI-compatible on x86_64 and aarch64 Linux.
 */
public interface LibC extends HostLibC {

    @SaveError
    long syscall(long number, long dirfd, @In byte[] path, @In long[] openHow, long openHowSize);

    @SaveError
    int openat(int dirfd, @In byte[] path, int flags, int mode);

    @SaveError
    long read(int fd, @Out ByteBuffer buffer, long count);

    @SaveError
    int statx(int dirfd, @In byte[] path, int flags, int mask, @Out Pointer statxBuffer);

    @SaveError
    long getdents64(int fd, @Out Pointer buffer, long count);

    @SaveError
    long readlinkat(int dirfd, @In byte[] path, @Out byte[] buffer, long size);

    @SaveError
    long fgetxattr(int fd, @In byte[] name, @Out byte[] value, long size);
}
