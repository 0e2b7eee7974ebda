package io.driftagent.agent.lineage;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.KernelFacts;
import io.driftagent.agent.source.ExecEvent.Lineage;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import java.util.List;

/** Exec events as the eBPF source (with kernel lineage facts) or fanotify (without) deliver them. */
final class LineageEvents {
    private LineageEvents() {
    }

    /** An eBPF exec of {@code exe} by process (tgid, start) with no ancestors of note. */
    static ExecEvent exec(int tgid, long startTimeNs, String exe, List<String> argv) {
        return exec(tgid, startTimeNs, 1, exe, argv, new Lineage(true, 0, List.of(), null, 0, false, "/", false));
    }

    static ExecEvent exec(int tgid, long startTimeNs, int ppid, String exe, List<String> argv, Lineage lineage) {
        return execAt(0, tgid, startTimeNs, ppid, exe, argv, lineage);
    }

    /** As exec, at the kernel timestamp {@code timestampNs}. */
    static ExecEvent execAt(long timestampNs, int tgid, long startTimeNs, int ppid, String exe, List<String> argv,
                            Lineage lineage) {
        return new ExecEvent(tgid, tgid, ppid, 0, 0, startTimeNs, "comm", exe, new ExecEvent.FileId(1, 2),
                ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, timestampNs,
                new KernelFacts(exe, false, false, false, argv, false, argv.size(), 0, 0, 1000, 3, "sh", lineage));
    }

    static Lineage lineage(long parentStart, List<ProcessKey> ancestors, ProcessKey leader, int leaderNsPid,
                           String cwd) {
        return new Lineage(true, parentStart, ancestors, leader, leaderNsPid, false, cwd, false);
    }

    /** A fanotify event: no kernel facts; the start time as the source read it from /proc (0: unknown). */
    static ExecEvent withoutKernelFacts(int tgid, long startTimeNs, int ppid) {
        return new ExecEvent(tgid, tgid, ppid, 0, 0, startTimeNs, "comm", "/x", new ExecEvent.FileId(1, 2),
                ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.FANOTIFY, 0);
    }
}
