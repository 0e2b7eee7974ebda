package io.driftagent.agent.source.ebpf;

import java.util.Objects;

/**
 * The two objects built from {@code exec.bpf.c}: the one whose walks read the kernel with plain loads (tried first;
 * null: none, only the other is loaded) and the one that reads each field through a helper call (for kernels that
 * refuse the first).
 */
record ExecObjects(byte[] directReads, byte[] helperReads) {
    ExecObjects {
        Objects.requireNonNull(helperReads, "helperReads");
    }

    /** Without the direct-reads object: what a kernel without its kfunc ends up with. */
    ExecObjects helperReadsOnly() {
        return new ExecObjects(null, helperReads);
    }
}
