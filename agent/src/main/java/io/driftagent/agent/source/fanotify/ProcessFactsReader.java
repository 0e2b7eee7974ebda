package io.driftagent.agent.source.fanotify;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Best-effort process facts from /proc/&lt;pid&gt;: a process may already have exited when its exec event is read,
 * then the facts stay unknown (never guessed). Reads are bounded. Not thread-safe: one per thread.
 */
final class ProcessFactsReader {

    private static final int MAX_READ = 4096;
    private static final int CGROUP_CACHE = 4096;

    private final Path procRoot;
    private final Path cgroup2Root;
    private final long nsPerTick;
    private final byte[] buf = new byte[MAX_READ];
    private final Map<String, Long> cgroupIds = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > CGROUP_CACHE;
        }
    };

    /**
     * @param cgroup2Root where the cgroup v2 (unified) hierarchy is mounted, or null when there is none
     * @param clockTicksPerSecond USER_HZ (100 on Linux)
     */
    ProcessFactsReader(Path procRoot, Path cgroup2Root, long clockTicksPerSecond) {
        this.procRoot = procRoot;
        this.cgroup2Root = cgroup2Root;
        this.nsPerTick = 1_000_000_000L / clockTicksPerSecond;
    }

    ProcessFacts read(int pid) {
        Path dir = procRoot.resolve(Integer.toString(pid));
        String stat = readSmall(dir.resolve("stat"));
        if (stat == null) {
            return ProcessFacts.unknown(pid);
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) {
            return ProcessFacts.unknown(pid);
        }
        String comm = stat.substring(open + 1, close);
        String[] rest = stat.substring(close + 2).split(" ");
        // rest[0] is field 3 (state): field N is rest[N - 3]
        int ppid = parseInt(rest, 4 - 3);
        long startTicks = parseLong(rest, 22 - 3);
        int tgid = pid;
        int uid = -1;
        int gid = -1;
        String status = readSmall(dir.resolve("status"));
        if (status != null) {
            for (String line : status.split("\n")) {
                if (line.startsWith("Tgid:")) {
                    tgid = Integer.parseInt(line.substring(5).trim());
                } else if (line.startsWith("Uid:")) {
                    uid = Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                } else if (line.startsWith("Gid:")) {
                    gid = Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                    break;
                }
            }
        }
        return new ProcessFacts(tgid, ppid, uid, gid, startTicks * nsPerTick, comm, cgroupId(dir), mountNsId(dir));
    }

    /**
     * The comm of {@code pid} if it is still the same process (start time) and still runs the image whose inode is
     * {@code exeIno} (so its exec finished and it has not exec'd again); else null.
     */
    String commIfStillRunning(int pid, long startTimeNs, long exeIno) {
        Path dir = procRoot.resolve(Integer.toString(pid));
        try {
            if (((Number) Files.getAttribute(dir.resolve("exe"), "unix:ino")).longValue() != exeIno) {
                return null;
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        String stat = readSmall(dir.resolve("stat"));
        if (stat == null) {
            return null;
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) {
            return null;
        }
        long startTicks = parseLong(stat.substring(close + 2).split(" "), 22 - 3);
        return startTicks * nsPerTick == startTimeNs ? stat.substring(open + 1, close) : null;
    }

    private long cgroupId(Path dir) {
        if (cgroup2Root == null) {
            return 0L;
        }
        String cgroup = readSmall(dir.resolve("cgroup"));
        if (cgroup == null) {
            return 0L;
        }
        for (String line : cgroup.split("\n")) {
            if (line.startsWith("0::")) {
                String rel = line.substring(3).trim();
                Long cached = cgroupIds.get(rel);
                if (cached != null) {
                    return cached;
                }
                long id = inode(cgroup2Root.resolve(rel.startsWith("/") ? rel.substring(1) : rel));
                if (id != 0L) {
                    cgroupIds.put(rel, id);
                }
                return id;
            }
        }
        return 0L;
    }

    private static long mountNsId(Path dir) {
        try {
            String link = Files.readSymbolicLink(dir.resolve("ns").resolve("mnt")).toString();
            int lb = link.indexOf('[');
            int rb = link.indexOf(']');
            return lb >= 0 && rb > lb ? Long.parseLong(link.substring(lb + 1, rb)) : 0L;
        } catch (IOException | RuntimeException e) {
            return 0L;
        }
    }

    private static long inode(Path p) {
        try {
            return ((Number) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
        } catch (IOException | RuntimeException e) {
            return 0L;
        }
    }

    private String readSmall(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            int total = 0;
            int n;
            while (total < buf.length && (n = in.read(buf, total, buf.length - total)) > 0) {
                total += n;
            }
            return new String(buf, 0, total, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    private static int parseInt(String[] f, int i) {
        return (int) parseLong(f, i);
    }

    private static long parseLong(String[] f, int i) {
        if (i >= f.length) {
            return 0L;
        }
        try {
            return Long.parseLong(f[i]);
        } catch (NumberFormatException e) {
            return 0L;
        }
    }
}
