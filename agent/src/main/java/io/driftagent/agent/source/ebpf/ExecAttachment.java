package io.driftagent.agent.source.ebpf;

/** The exec program that was attached. */
public enum ExecAttachment {
    TP_BTF("exec_btf", "tp_btf/sched_process_exec"),
    TRACEPOINT("exec_tp", "tracepoint/sched/sched_process_exec");

    private final String programName;
    private final String section;

    ExecAttachment(String programName, String section) {
        this.programName = programName;
        this.section = section;
    }

    String programName() {
        return programName;
    }

    public String section() {
        return section;
    }

    ExecAttachment other() {
        return this == TP_BTF ? TRACEPOINT : TP_BTF;
    }
}
