package io.driftagent.agent.source.ebpf;

import jnr.ffi.Pointer;
import jnr.ffi.types.size_t;

/** The libc calls the libbpf bridge needs: formatting libbpf's va_list log messages. */
public interface LibcFormat {
    int vsnprintf(Pointer buffer, @size_t long size, Pointer format, Pointer vaList);
}
