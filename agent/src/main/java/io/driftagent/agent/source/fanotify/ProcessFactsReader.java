package io.driftagent.agent.source.fanotify;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Best-effort process facts from /proc/&lt;pid&gt;: a process may already have exited when its exec event is read,
 * then the facts stay unknown (never guessed). Reads go straight through libc into one reused buffer (this is on the
 * per-exec hot path) and are bounded. Not thread-safe: one per thread.
 */
public final class ProcessFactsReader {

    private static final int MAX_READ = 4096;
    private static final int CGROUP_CACHE = 4096;

    private final LinuxLibC libc;
    private final String procRoot;
    private final String cgroup2Root;
    private final long nsPerTick;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(MAX_READ).order(ByteOrder.nativeOrder());
    private final ByteBuffer statx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final byte[] bytes = new byte[MAX_READ];
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
    public ProcessFactsReader(Native nat, Path procRoot, Path cgroup2Root, long clockTicksPerSecond) {
        this.libc = nat.libc;
        this.procRoot = procRoot.toString();
        this.cgroup2Root = cgroup2Root == null ? null : cgroup2Root.toString();
        this.nsPerTick = 1_000_000_000L / clockTicksPerSecond;
    }

    public ProcessFacts read(int pid) {
        String dir = procRoot + "/" + pid;
        int n = readFile(dir + "/stat");
        if (n <= 0) {
            return ProcessFacts.unknown(pid);
        }
        int open = indexOf((byte) '(', 0, n);
        int close = lastIndexOf((byte) ')', n);
        if (open < 0 || close < open) {
            return ProcessFacts.unknown(pid);
        }
        String comm = new String(bytes, open + 1, close - open - 1, StandardCharsets.UTF_8);
        // after ") " come fields 3 (state), 4 (ppid), ... 22 (starttime)
        int ppid = (int) field(close + 2, n, 4 - 3);
        long startTicks = field(close + 2, n, 22 - 3);
        int tgid = pid;
        int uid = -1;
        int gid = -1;
        n = readFile(dir + "/status");
        if (n > 0) {
            tgid = (int) valueAfter("\nTgid:", n, tgid);
            uid = (int) valueAfter("\nUid:", n, uid);
            gid = (int) valueAfter("\nGid:", n, gid);
        }
        return new ProcessFacts(tgid, ppid, uid, gid, startTicks * nsPerTick, comm, cgroupId(dir), mountNsId(dir));
    }

    /**
     * Only what places {@code pid} (its cgroup and mount namespace: its container), for a decision the process waits
     * for: two /proc reads instead of four. The rest ({@link #read}) is read after the answer. Parent, uid, gid,
     * start time and comm stay unknown here; the tgid is {@code pid} (fanotify reports the thread group's id).
     */
    public ProcessFacts readPlacement(int pid) {
        String dir = procRoot + "/" + pid;
        ProcessFacts unknown = ProcessFacts.unknown(pid);
        return new ProcessFacts(pid, unknown.ppid(), unknown.uid(), unknown.gid(), unknown.startTimeNs(), unknown.comm(),
                cgroupId(dir), mountNsId(dir));
    }

    /**
     * A placement known without reading /proc ({@code cgroupId}, {@code mountNsId} learned earlier): the rest as
     * {@link #readPlacement}, unknown.
     */
    public ProcessFacts knownPlacement(int pid, long cgroupId, long mountNsId) {
        ProcessFacts unknown = ProcessFacts.unknown(pid);
        return new ProcessFacts(pid, unknown.ppid(), unknown.uid(), unknown.gid(), unknown.startTimeNs(), unknown.comm(),
                cgroupId, mountNsId);
    }

    /**
     * The comm of {@code pid} if it is still the same process (start time) and still runs the image whose inode is
     * {@code exeIno} (so its exec finished and it has not exec'd again); else null.
     */
    String commIfStillRunning(int pid, long startTimeNs, long exeIno) {
        String dir = procRoot + "/" + pid;
        statx.clear();
        if (libc.statx(Native.AT_FDCWD, dir + "/exe", 0, Native.STATX_BASIC_STATS, statx) != 0 || statx.getLong(32) != exeIno) {
            return null;
        }
        int n = readFile(dir + "/stat");
        int open = n > 0 ? indexOf((byte) '(', 0, n) : -1;
        int close = n > 0 ? lastIndexOf((byte) ')', n) : -1;
        if (open < 0 || close < open) {
            return null;
        }
        long startTicks = field(close + 2, n, 22 - 3);
        return startTicks * nsPerTick == startTimeNs ? new String(bytes, open + 1, close - open - 1, StandardCharsets.UTF_8) : null;
    }

    private long cgroupId(String dir) {
        if (cgroup2Root == null) {
            return 0L;
        }
        int n = readFile(dir + "/cgroup");
        int at = 0;
        while (at < n) {
            int eol = indexOf((byte) '\n', at, n);
            int end = eol < 0 ? n : eol;
            if (end - at >= 3 && bytes[at] == '0' && bytes[at + 1] == ':' && bytes[at + 2] == ':') {
                String rel = new String(bytes, at + 3, end - at - 3, StandardCharsets.UTF_8);
                if (rel.startsWith("/..")) {
                    return 0L; // outside this process's cgroup namespace: no directory under the mount names it
                }
                Long cached = cgroupIds.get(rel);
                if (cached != null) {
                    return cached;
                }
                statx.clear();
                String p = rel.equals("/") ? cgroup2Root : cgroup2Root + rel;
                long id = libc.statx(Native.AT_FDCWD, p, Native.AT_SYMLINK_NOFOLLOW, Native.STATX_BASIC_STATS, statx) == 0
                        ? statx.getLong(32) : 0L;
                if (id != 0L) {
                    cgroupIds.put(rel, id);
                }
                return id;
            }
            at = end + 1;
        }
        return 0L;
    }

    private long mountNsId(String dir) {
        buf.clear();
        long n = libc.readlink(dir + "/ns/mnt", buf, 64);
        if (n <= 0) {
            return 0L;
        }
        // "mnt:[4026531840]"
        long v = 0;
        boolean in = false;
        for (int i = 0; i < n; i++) {
            byte b = buf.get(i);
            if (b == '[') {
                in = true;
            } else if (b == ']') {
                return v;
            } else if (in && b >= '0' && b <= '9') {
                v = v * 10 + (b - '0');
            }
        }
        return 0L;
    }

    /** Reads up to MAX_READ bytes of a /proc file into {@link #bytes}; -1 when it cannot be opened. */
    private int readFile(String path) {
        int fd = libc.open(path, Native.O_RDONLY | Native.O_CLOEXEC | Native.O_NOFOLLOW);
        if (fd < 0) {
            return -1;
        }
        try {
            int total = 0;
            while (total < MAX_READ) {
                buf.clear();
                long got = libc.read(fd, buf, MAX_READ - total);
                if (got <= 0) {
                    break;
                }
                buf.get(0, bytes, total, (int) got);
                total += (int) got;
            }
            return total;
        } finally {
            libc.close(fd);
        }
    }

    private long valueAfter(String key, int n, long fallback) {
        byte[] k = key.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + k.length <= n; i++) {
            for (int j = 0; j < k.length; j++) {
                if (bytes[i + j] != k[j]) {
                    continue outer;
                }
            }
            int p = i + k.length;
            while (p < n && (bytes[p] == ' ' || bytes[p] == '\t')) {
                p++;
            }
            return parseNumber(p, n, fallback);
        }
        return fallback;
    }

    /** The {@code index}-th space-separated field starting at {@code from} (0-based), as a number. */
    private long field(int from, int n, int index) {
        int p = from;
        int f = 0;
        while (f < index && p < n) {
            if (bytes[p] == ' ') {
                f++;
            }
            p++;
        }
        return parseNumber(p, n, 0L);
    }

    private long parseNumber(int p, int n, long fallback) {
        boolean neg = p < n && bytes[p] == '-';
        if (neg) {
            p++;
        }
        if (p >= n || bytes[p] < '0' || bytes[p] > '9') {
            return fallback;
        }
        long v = 0;
        while (p < n && bytes[p] >= '0' && bytes[p] <= '9') {
            v = v * 10 + (bytes[p++] - '0');
        }
        return neg ? -v : v;
    }

    private int indexOf(byte b, int from, int n) {
        for (int i = from; i < n; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private int lastIndexOf(byte b, int n) {
        for (int i = n - 1; i >= 0; i--) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
