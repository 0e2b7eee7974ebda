package io.driftagent.agent.pipeline;

import io.driftagent.agent.lineage.ProcessLineage;
import java.util.List;

/**
 * What {@code /proc} still told about an exec'd process when it was attributed. Best effort: any part may be
 * unknown (null, or an empty command line) when the process was already gone.
 *
 * @param exe       the target of {@code /proc/<pid>/exe}
 * @param cmdline   the arguments of {@code /proc/<pid>/cmdline}, bounded
 * @param parentExe the target of {@code /proc/<ppid>/exe}
 * @param lineage   ancestors, session, cwd and ids ({@link ProcessLineage#UNKNOWN} when not read)
 */
public record ProcessSnapshot(String exe, List<String> cmdline, String parentExe, ProcessLineage lineage) {
    public static final ProcessSnapshot UNKNOWN = new ProcessSnapshot(null, List.of(), null);

    public ProcessSnapshot {
        cmdline = cmdline == null ? List.of() : List.copyOf(cmdline);
        lineage = lineage == null ? ProcessLineage.UNKNOWN : lineage;
    }

    public ProcessSnapshot(String exe, List<String> cmdline, String parentExe) {
        this(exe, cmdline, parentExe, ProcessLineage.UNKNOWN);
    }
}
