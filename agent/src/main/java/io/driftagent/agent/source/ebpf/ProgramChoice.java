package io.driftagent.agent.source.ebpf;

/** Which of the two exec programs in {@code exec.bpf.o} to attach. */
public enum ProgramChoice {
    /** {@code tp_btf/sched_process_exec}, falling back to the classic tracepoint when it cannot load or attach. */
    AUTO,
    /** Only {@code tp_btf/sched_process_exec} (BTF-typed: sees {@code struct linux_binprm}). */
    TP_BTF,
    /** Only {@code tracepoint/sched/sched_process_exec} (no bprm: the file is {@code mm->exe_file}). */
    TRACEPOINT
}
