package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * After a queue overflow: finds the processes started since a point in time (boot-based ns, the clock of
 * /proc/&lt;pid&gt;/stat field 22) and describes each by its current executable ({@code /proc/<pid>/exe} opened
 * O_PATH, so nothing is read from it). What it cannot recover: execs by processes started earlier, processes that
 * already exited, and for scripts the script itself (the exe is the interpreter).
 */
final class ProcessRescanner {

    private final Native nat;
    private final Path procRoot;
    private final ProcessFactsReader procReader;
    private final ExecutedFileInspector inspector;
    private final OverlayLayers layers;
    private final ExecEventAssembler assembler;

    ProcessRescanner(Native nat, Path procRoot, ProcessFactsReader procReader, ExecutedFileInspector inspector,
                     OverlayLayers layers, ExecEventAssembler assembler) {
        this.nat = nat;
        this.procRoot = procRoot;
        this.procReader = procReader;
        this.inspector = inspector;
        this.layers = layers;
        this.assembler = assembler;
    }

    int startedSince(long sinceBootNs, Consumer<ExecEvent> out) {
        int emitted = 0;
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(procRoot)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                int pid;
                try {
                    pid = Integer.parseInt(name);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid == self) {
                    continue;
                }
                ProcessFacts p = procReader.read(pid);
                if (!p.known() || p.startTimeNs() < sinceBootNs) {
                    continue;
                }
                ExecEvent e = describe(pid, p);
                if (e != null) {
                    out.accept(e);
                    emitted++;
                }
            }
        } catch (IOException e) {
            return emitted;
        }
        return emitted;
    }

    /**
     * Processes running from a memfd that {@code reported} does not hold yet (fanotify raises no event for an exec
     * from a memfd; a file deleted after its exec was reported by its exec already): each is emitted once, described
     * by its current executable. {@code reported}
     * holds "pid@startTime" keys and is pruned to the processes still running.
     *
     * @return how many were emitted
     */
    int runningFromMemory(java.util.Set<String> reported, Consumer<ExecEvent> out) {
        int emitted = 0;
        long self = ProcessHandle.current().pid();
        java.util.Set<String> alive = new java.util.HashSet<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(procRoot)) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0)) || name.equals(Long.toString(self))) {
                    continue;
                }
                String exe;
                try {
                    exe = Files.readSymbolicLink(dir.resolve("exe")).toString();
                } catch (IOException | RuntimeException e) {
                    continue;
                }
                if (!exe.startsWith("/memfd:")) {
                    continue;
                }
                int pid;
                try {
                    pid = Integer.parseInt(name);
                } catch (NumberFormatException e) {
                    continue;
                }
                ProcessFacts p = procReader.read(pid);
                if (!p.known()) {
                    continue;
                }
                String key = pid + "@" + p.startTimeNs();
                alive.add(key);
                if (reported.contains(key)) {
                    continue;
                }
                ExecEvent e = describe(pid, p);
                if (e != null) {
                    reported.add(key);
                    out.accept(e);
                    emitted++;
                }
            }
        } catch (IOException e) {
            return emitted;
        }
        reported.retainAll(alive);
        return emitted;
    }

    private ExecEvent describe(int pid, ProcessFacts p) {
        int fd = nat.libc.open(procRoot.resolve(pid + "/exe").toString(), Native.O_PATH | Native.O_CLOEXEC);
        if (fd < 0) {
            return null;
        }
        try {
            ExecutedFile f = inspector.inspect(fd, false);
            if (f == null) {
                return null;
            }
            ExecCorrelator.Part part = new ExecCorrelator.Part(f, layers.resolve(f));
            return assembler.assemble(pid, p, List.of(part), List.of(), p.comm(), System.nanoTime());
        } finally {
            nat.libc.close(fd);
        }
    }

    static long uptimeNs(Path procRoot) {
        try {
            String s = new String(Files.readAllBytes(procRoot.resolve("uptime")), StandardCharsets.US_ASCII);
            return (long) (Double.parseDouble(s.split(" ")[0]) * 1e9);
        } catch (IOException | RuntimeException e) {
            return 0L;
        }
    }
}
