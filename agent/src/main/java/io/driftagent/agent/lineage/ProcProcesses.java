package io.driftagent.agent.lineage;

import io.driftagent.agent.attribution.ProcessLinks;
import io.driftagent.agent.source.KernelArgv;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The few {@code /proc/<pid>} facts lineage needs, each read on its own and each empty (null, -1, an empty list)
 * when the process is gone. Paths are built from integers only. Start times are compared in clock ticks (USER_HZ,
 * 100 on Linux), the unit of {@code /proc/<pid>/stat}.
 */
final class ProcProcesses {

    /** ns per clock tick of /proc/<pid>/stat's start time (USER_HZ = 100). */
    static final long NANOS_PER_TICK = 10_000_000L;

    private final Path procRoot;
    private final int maxCmdlineBytes;
    private final int maxArgs;

    ProcProcesses(Path procRoot, int maxCmdlineBytes, int maxArgs) {
        this.procRoot = procRoot;
        this.maxCmdlineBytes = maxCmdlineBytes;
        this.maxArgs = maxArgs;
    }

    /** What {@code /proc/<pid>/status} says of the process's parent, namespaces and uids. */
    record Status(int ppid, int[] nsPids, long euid) {
        /** The pid in the innermost pid namespace; nsPids has one entry per level (one: the host's). */
        int innermostPid() {
            return nsPids[nsPids.length - 1];
        }

        int level() {
            return nsPids.length - 1;
        }
    }

    /** Its start time in ns since boot (clock-tick precision), -1 when gone. */
    long startTimeNs(int pid) {
        String stat = read(pid, "stat");
        if (stat == null) {
            return -1;
        }
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        String[] fields = stat.substring(close + 1).trim().split(" ");
        if (fields.length < 20) {
            return -1;
        }
        try {
            return Long.parseLong(fields[19]) * NANOS_PER_TICK; // field 22: fields[0] is field 3
        } catch (NumberFormatException bad) {
            return -1;
        }
    }

    /** Whether {@code pid} is still the process that started at {@code startTimeNs} (kernel ns; compared in ticks). */
    boolean isSameProcess(int pid, long startTimeNs) {
        long start = startTimeNs(pid);
        return start >= 0 && start / NANOS_PER_TICK == startTimeNs / NANOS_PER_TICK;
    }

    Status status(int pid) {
        String status = read(pid, "status");
        if (status == null) {
            return null;
        }
        int ppid = -1;
        int[] nsPids = null;
        long euid = -1;
        for (String line : status.split("\n")) {
            try {
                if (line.startsWith("PPid:")) {
                    ppid = Integer.parseInt(line.substring(5).trim());
                } else if (line.startsWith("NSpid:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    nsPids = new int[parts.length];
                    for (int i = 0; i < parts.length; i++) {
                        nsPids[i] = Integer.parseInt(parts[i]);
                    }
                } else if (line.startsWith("Uid:")) {
                    String[] parts = line.substring(4).trim().split("\\s+");
                    euid = parts.length > 1 ? Long.parseLong(parts[1]) : -1;
                }
            } catch (NumberFormatException bad) {
                return null;
            }
        }
        return ppid < 0 || nsPids == null || nsPids.length == 0 ? null : new Status(ppid, nsPids, euid);
    }

    /** The pid namespace link's target ({@code pid:[4026531836]}), null when gone. */
    String pidNamespace(int pid) {
        try {
            return Files.readSymbolicLink(proc(pid).resolve("ns").resolve("pid")).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException gone) {
            return null;
        }
    }

    String exe(int pid) {
        return ProcessLinks.read(procRoot, pid, "exe").orElse(null);
    }

    String cwd(int pid) {
        return ProcessLinks.read(procRoot, pid, "cwd").orElse(null);
    }

    /** {@code /proc/<pid>/loginuid} or {@code sessionid}; -1 when gone, unset (4294967295) or without audit. */
    long auditId(int pid, String file) {
        String value = read(pid, file);
        if (value == null) {
            return -1;
        }
        try {
            long id = Long.parseLong(value.trim());
            return id == 0xFFFF_FFFFL ? -1 : id;
        } catch (NumberFormatException bad) {
            return -1;
        }
    }

    List<String> cmdline(int pid) {
        byte[] bytes = new byte[maxCmdlineBytes];
        int length;
        try (InputStream in = new FileInputStream(proc(pid).resolve("cmdline").toFile())) {
            length = in.readNBytes(bytes, 0, maxCmdlineBytes);
        } catch (IOException | SecurityException gone) {
            return List.of();
        }
        return KernelArgv.of(bytes, length, maxArgs);
    }

    private String read(int pid, String file) {
        if (pid <= 0) {
            return null;
        }
        try (InputStream in = new FileInputStream(proc(pid).resolve(file).toFile())) {
            return new String(in.readNBytes(8192), StandardCharsets.UTF_8);
        } catch (IOException | SecurityException gone) {
            return null;
        }
    }

    private Path proc(int pid) {
        return procRoot.resolve(Integer.toString(pid));
    }
}
