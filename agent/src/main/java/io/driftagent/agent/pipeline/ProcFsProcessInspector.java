package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ProcessLinks;
import io.driftagent.agent.lineage.LineageReader;
import io.driftagent.agent.lineage.ProcessLineage;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.KernelArgv;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads {@code /proc/<tgid>/exe}, {@code /proc/<tgid>/cmdline} and {@code /proc/<ppid>/exe}. The paths are built
 * from integers only, so nothing a container controls can redirect the reads; the command line is read up to
 * {@code maxCmdlineBytes} and split on NUL into at most {@code maxArgs} arguments.
 */
public final class ProcFsProcessInspector implements ProcessInspector {

    private final Path procRoot;
    private final int maxCmdlineBytes;
    private final int maxArgs;
    private final LineageReader lineage;

    public ProcFsProcessInspector(Path procRoot, int maxCmdlineBytes, int maxArgs) {
        this(procRoot, maxCmdlineBytes, maxArgs, null);
    }

    /** @param lineage reads each snapshot's {@link ProcessLineage}; null: none ({@link ProcessLineage#UNKNOWN}) */
    public ProcFsProcessInspector(Path procRoot, int maxCmdlineBytes, int maxArgs, LineageReader lineage) {
        if (maxCmdlineBytes < 1 || maxArgs < 1) {
            throw new IllegalArgumentException("bounds must be positive");
        }
        this.procRoot = procRoot;
        this.maxCmdlineBytes = maxCmdlineBytes;
        this.maxArgs = maxArgs;
        this.lineage = lineage;
    }

    /** The host's {@code /proc}, 4 KiB of command line, 64 arguments. */
    public static ProcFsProcessInspector host() {
        return new ProcFsProcessInspector(Path.of("/proc"), 4096, 64);
    }

    /** As {@link #host()}, with the lineage of each process. */
    public static ProcFsProcessInspector host(LineageReader lineage) {
        return new ProcFsProcessInspector(Path.of("/proc"), 4096, 64, lineage);
    }

    @Override
    public void observe(ExecEvent event) {
        if (lineage != null) {
            lineage.observe(event);
        }
    }

    /**
     * A short-lived process is often gone by now: that is checked first with one stat, because each failed read
     * would cost a thrown and caught exception (the JDK's file APIs report a missing file that way), several times
     * the cost of the read, on the hot path of an exec storm.
     */
    @Override
    public ProcessSnapshot inspect(ExecEvent event) {
        String exe = null;
        List<String> cmdline = List.of();
        // the kernel gave the command line and the executable at exec time (the alert prefers them, AlertAssembler):
        // reading them again from /proc would cost two reads for facts that are late at best
        if (!kernelKnowsExeAndCmdline(event) && exists(event.tgid())) {
            exe = readExe(event.tgid());
            cmdline = readCmdline(event.tgid());
        }
        ProcessLineage facts = lineage == null ? ProcessLineage.UNKNOWN : lineage.read(event);
        // the process tree names a parent that already exited (or exec'd since); /proc only the one still there
        String parentExe = facts.parentExe() != null ? facts.parentExe()
                : event.ppid() > 0 && exists(event.ppid()) ? readExe(event.ppid()) : null;
        return new ProcessSnapshot(exe, cmdline, parentExe, facts);
    }

    /** As AlertAssembler uses them: argv, and an exact path of a file that is not a script (whose exe is its interpreter). */
    static boolean kernelKnowsExeAndCmdline(ExecEvent event) {
        ExecEvent.KernelFacts kernel = event.kernel();
        if (event.isLibraryLoad()) {
            return kernel.argvKnown() && event.processExe() != null;
        }
        return kernel.argvKnown() && kernel.path() != null && !kernel.pathTruncated() && !event.interpreter().isKnown();
    }

    /** {@code /proc/<pid>} exists (java.io.File reports a miss as false, not as an exception). */
    private boolean exists(int pid) {
        return pid > 0 && procRoot.resolve(Integer.toString(pid)).toFile().isDirectory();
    }

    /** The executable as the process itself sees it (see {@link ProcessLinks}). */
    private String readExe(int pid) {
        return ProcessLinks.read(procRoot, pid, "exe").orElse(null);
    }

    private List<String> readCmdline(int pid) {
        if (pid <= 0) {
            return List.of();
        }
        byte[] bytes = new byte[maxCmdlineBytes];
        int length;
        // a plain FileInputStream: half the cost of an NIO channel stream per read, on the hot path of every drifted exec
        try (InputStream in = new FileInputStream(procRoot.resolve(Integer.toString(pid)).resolve("cmdline").toFile())) {
            length = in.readNBytes(bytes, 0, maxCmdlineBytes);
        } catch (IOException | SecurityException gone) {
            return List.of();
        }
        return KernelArgv.of(bytes, length, maxArgs);
    }
}
