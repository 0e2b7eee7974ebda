package io.driftagent.agent.source.ebpf;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * The part of libbpf 1.x ({@code libbpf.so.1}) the exec source uses. Functions returning an {@code int} return
 * a negative errno on failure; functions returning a pointer return NULL and set errno ({@link SaveError}).
 */
public interface Libbpf {

    /** {@code int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *fmt, va_list ap)}. */
    interface PrintCallback {
        @Delegate
        int print(int level, Pointer format, Pointer vaList);
    }

    @SaveError
    Pointer bpf_object__open_mem(Pointer objBuf, @size_t long objBufSize, Pointer opts);

    int bpf_object__load(Pointer obj);

    void bpf_object__close(Pointer obj);

    Pointer bpf_object__find_program_by_name(Pointer obj, String name);

    int bpf_program__set_autoload(Pointer prog, boolean autoload);

    int bpf_program__fd(Pointer prog);

    @SaveError
    Pointer bpf_program__attach(Pointer prog);

    int bpf_link__destroy(Pointer link);

    Pointer bpf_object__find_map_by_name(Pointer obj, String name);

    int bpf_map__set_max_entries(Pointer map, int maxEntries);

    int bpf_object__find_map_fd_by_name(Pointer obj, String name);

    @SaveError
    int bpf_map_lookup_elem(int fd, Pointer key, Pointer value);

    @SaveError
    int bpf_map_update_elem(int fd, Pointer key, Pointer value, long flags);

    int libbpf_num_possible_cpus();

    Pointer libbpf_set_print(PrintCallback fn);
}
