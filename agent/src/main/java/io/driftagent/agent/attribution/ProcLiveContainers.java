package io.driftagent.agent.attribution;

import io.driftagent.agent.host.CgroupMounts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds running containers by scanning {@code /proc}: every process's {@code /proc/<pid>/cgroup} names its container
 * ({@link CgroupPathParser}, the same reading as attribution); of each container's processes the one started first
 * (field 22 of {@code /proc/<pid>/stat}; ties: lowest pid) is its anchor, which is the container's init for every
 * runtime here (runc starts it first and the container ends with it). Works for containers started before the
 * agent, whatever runtime, without asking the runtime. A scan of a few hundred processes takes a few milliseconds.
 */
public final class ProcLiveContainers implements LiveContainers {

    private static final Logger LOG = LoggerFactory.getLogger(ProcLiveContainers.class);
    private static final int MAX_READ = 64 * 1024;

    private final Path procRoot;
    private final boolean unifiedHierarchyMounted;
    private final CgroupPathParser parser = new CgroupPathParser();

    public ProcLiveContainers(Path procRoot, boolean unifiedHierarchyMounted) {
        this.procRoot = procRoot;
        this.unifiedHierarchyMounted = unifiedHierarchyMounted;
    }

    /** For the host the agent runs on: whether the unified hierarchy is mounted is read from our own mountinfo. */
    public static ProcLiveContainers onThisHost(Path procRoot) throws IOException {
        CgroupMounts mounts = CgroupMounts.ofThisProcess(procRoot);
        return new ProcLiveContainers(procRoot, mounts.unified().isPresent());
    }

    private record Candidate(int pid, long startTicks) {
        boolean olderThan(Candidate other) {
            return startTicks < other.startTicks || (startTicks == other.startTicks && pid < other.pid);
        }
    }

    @Override
    public List<LiveContainer> scan() {
        Map<ContainerId, Candidate> oldest = new HashMap<>();
        forEachProcess((pid, id) -> {
            long start = startTicks(pid);
            if (start < 0) {
                return; // gone meanwhile
            }
            Candidate c = new Candidate(pid, start);
            oldest.merge(id, c, (a, b) -> b.olderThan(a) ? b : a);
        });
        List<LiveContainer> out = new ArrayList<>(oldest.size());
        oldest.forEach((id, c) -> out.add(new LiveContainer(id, c.pid())));
        return out;
    }

    @Override
    public OptionalInt anchorOf(ContainerId wanted) {
        Candidate[] best = new Candidate[1];
        forEachProcess((pid, id) -> {
            if (!id.equals(wanted)) {
                return;
            }
            long start = startTicks(pid);
            if (start >= 0 && (best[0] == null || new Candidate(pid, start).olderThan(best[0]))) {
                best[0] = new Candidate(pid, start);
            }
        });
        return best[0] == null ? OptionalInt.empty() : OptionalInt.of(best[0].pid());
    }

    private interface ProcessVisitor {
        void visit(int pid, ContainerId id);
    }

    private void forEachProcess(ProcessVisitor visitor) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(procRoot)) {
            for (Path dir : dirs) {
                int pid = pidOf(dir.getFileName().toString());
                if (pid <= 0) {
                    continue;
                }
                Optional<String> cgroup = read(dir.resolve("cgroup"));
                if (cgroup.isEmpty()) {
                    continue;
                }
                parser.parseProcCgroup(cgroup.get(), unifiedHierarchyMounted)
                        .ifPresent(identity -> visitor.visit(pid, identity.id()));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot scan {} for running containers: {}", procRoot, e.toString());
        }
    }

    /** The process's start time in clock ticks since boot, or -1 when it is gone. */
    private long startTicks(int pid) {
        Optional<String> stat = read(procRoot.resolve(pid + "/stat"));
        if (stat.isEmpty()) {
            return -1;
        }
        String text = stat.get();
        int close = text.lastIndexOf(')'); // comm may hold spaces and ')'
        if (close < 0) {
            return -1;
        }
        String[] fields = text.substring(close + 2).trim().split(" ");
        // fields[0] is field 3 (state): field 22 (starttime) is fields[19]
        if (fields.length < 20) {
            return -1;
        }
        try {
            return Long.parseLong(fields[19]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int pidOf(String name) {
        if (name.isEmpty() || name.length() > 9) {
            return -1;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(name);
    }

    private static Optional<String> read(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return Optional.of(new String(bytes, 0, Math.min(bytes.length, MAX_READ), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException gone) {
            return Optional.empty();
        }
    }
}
