package io.driftagent.agent.source.ebpf;

import java.nio.charset.StandardCharsets;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libbpf and libc bound through jnr-ffi, loaded once per JVM (libbpf's print hook is process-wide), with libbpf's
 * own log routed to SLF4J (logger {@code io.driftagent.agent.source.ebpf.libbpf}).
 */
final class LibbpfBindings {

    static final String LIBBPF_SONAME = "libbpf.so.1";

    private final Libbpf libbpf;
    private final LibcMemory memory;
    private final Runtime runtime;
    private final Libbpf.PrintCallback printCallback;

    private LibbpfBindings(Libbpf libbpf, LibcFormat libc, LibcMemory memory) {
        this.libbpf = libbpf;
        this.memory = memory;
        this.runtime = Runtime.getRuntime(libbpf);
        // the callback object must stay strongly reachable for as long as libbpf may call it: this instance is
        // held by the holder class for the life of the JVM
        this.printCallback = new LibbpfLogBridge(libc, runtime);
        libbpf.libbpf_set_print(printCallback);
    }

    Libbpf libbpf() {
        return libbpf;
    }

    LibcMemory memory() {
        return memory;
    }

    Runtime runtime() {
        return runtime;
    }

    /** The process-wide bindings; throws {@link LibbpfMissingException} when libbpf cannot be loaded. */
    static LibbpfBindings get() throws LibbpfMissingException {
        Holder holder = Holder.INSTANCE;
        if (holder.bindings == null) {
            throw new LibbpfMissingException(holder.failure);
        }
        return holder.bindings;
    }

    /** libbpf could not be loaded; the message names the library and the loader's reason. */
    static final class LibbpfMissingException extends Exception {
        private static final long serialVersionUID = 1L;

        LibbpfMissingException(String message) {
            super(message);
        }
    }

    private static final class Holder {
        static final Holder INSTANCE = new Holder();
        final LibbpfBindings bindings;
        final String failure;

        private Holder() {
            LibbpfBindings loaded = null;
            String why = null;
            try {
                Libbpf libbpf = LibraryLoader.create(Libbpf.class).failImmediately().load(LIBBPF_SONAME);
                LibcFormat libc = LibraryLoader.create(LibcFormat.class).failImmediately().load("c");
                LibcMemory memory = LibraryLoader.create(LibcMemory.class).failImmediately().load("c");
                loaded = new LibbpfBindings(libbpf, libc, memory);
            } catch (LinkageError | RuntimeException e) {
                why = LIBBPF_SONAME + " could not be loaded (Debian package libbpf1): " + e.getMessage();
            }
            this.bindings = loaded;
            this.failure = why;
        }
    }

    /** Formats libbpf's printf-style messages with libc's vsnprintf and logs them at the matching SLF4J level. */
    private static final class LibbpfLogBridge implements Libbpf.PrintCallback {
        private static final Logger LIBBPF_LOG = LoggerFactory.getLogger("io.driftagent.agent.source.ebpf.libbpf");
        private static final int LIBBPF_WARN = 0;
        private static final int LIBBPF_INFO = 1;
        private static final int MESSAGE_BYTES = 2048;

        private final LibcFormat libc;
        private final Runtime runtime;

        LibbpfLogBridge(LibcFormat libc, Runtime runtime) {
            this.libc = libc;
            this.runtime = runtime;
        }

        @Override
        public int print(int level, Pointer format, Pointer vaList) {
            try {
                boolean enabled = switch (level) {
                    case LIBBPF_WARN -> LIBBPF_LOG.isWarnEnabled();
                    case LIBBPF_INFO -> LIBBPF_LOG.isInfoEnabled();
                    default -> LIBBPF_LOG.isDebugEnabled();
                };
                if (!enabled) {
                    return 0;
                }
                Pointer buffer = Memory.allocateDirect(runtime, MESSAGE_BYTES);
                int n = libc.vsnprintf(buffer, MESSAGE_BYTES, format, vaList);
                if (n < 0) {
                    return 0;
                }
                String message = buffer.getString(0, Math.min(n, MESSAGE_BYTES - 1), StandardCharsets.UTF_8).stripTrailing();
                switch (level) {
                    case LIBBPF_WARN -> LIBBPF_LOG.warn("{}", message);
                    case LIBBPF_INFO -> LIBBPF_LOG.info("{}", message);
                    default -> LIBBPF_LOG.debug("{}", message);
                }
                return n;
            } catch (RuntimeException e) {
                // never let an exception unwind into libbpf's C frames
                return 0;
            }
        }
    }
}
