package io.driftagent.agent.classification;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the ExecEvent the kernel would report for an exec in a live container process, from real facts only:
 * stat(2) of the file in the process's root, the cgroup v2 directory inode of the process, its mount namespace
 * inode, and the upper-layer flag as "the file exists in the container's upperdir". Test code, independent of the
 * parsers under test (its own regexes).
 */
final class KernelFacts {

    private static final Pattern UPPERDIR = Pattern.compile("upperdir=([^,\\s]+)");

    private KernelFacts() {
    }

    /** An exec of {@code containerPath} by process {@code pid} (for a script: the script). */
    static ExecEvent execIn(int pid, String containerPath) throws IOException {
        Path file = Path.of("/proc/" + pid + "/root" + containerPath);
        Map<String, Object> a = Files.readAttributes(file, "unix:dev,ino,nlink");
        long dev = (Long) a.get("dev");
        String rootLine = rootMountLine(pid);
        long rootDev = devOf(rootLine);
        boolean overlay = dev == rootDev && rootLine.contains(" - overlay ");
        boolean upper = false;
        if (overlay) {
            Matcher m = UPPERDIR.matcher(rootLine);
            m.find();
            upper = Files.exists(Path.of(m.group(1)).resolve(resolvedInContainer(pid, containerPath)),
                    LinkOption.NOFOLLOW_LINKS);
        }
        return new ExecEvent(pid, pid, 1, 0, 0, 1, file.getFileName().toString(), containerPath,
                new ExecEvent.FileId(dev, (Long) a.get("ino")), ExecEvent.FileId.NONE, cgroupIdOf(pid),
                mountNsOf(pid), new ExecEvent.Flags(overlay, upper, false, ((Integer) a.get("nlink")) == 0),
                ExecEvent.SourceKind.EBPF, System.nanoTime());
    }

    /** The exec of process {@code pid}'s own executable (a memfd for a fexecve'd process). */
    static ExecEvent execOfRunningExe(int pid) throws IOException {
        Path exe = Path.of("/proc/" + pid + "/exe");
        String name = Files.readSymbolicLink(exe).toString();
        Map<String, Object> a = Files.readAttributes(exe, "unix:dev,ino,nlink");
        boolean memfd = name.startsWith("/memfd:");
        return new ExecEvent(pid, pid, 1, 0, 0, 1, "sleep", name, new ExecEvent.FileId((Long) a.get("dev"),
                (Long) a.get("ino")), ExecEvent.FileId.NONE, cgroupIdOf(pid), mountNsOf(pid),
                new ExecEvent.Flags(false, false, memfd, ((Integer) a.get("nlink")) == 0), ExecEvent.SourceKind.EBPF,
                System.nanoTime());
    }

    /**
     * The container path, lexically normalised. The test's paths name files directly (a final symlink such as
     * /bin/sh points into the image, so it is never in the upper dir either way).
     */
    private static String resolvedInContainer(int pid, String containerPath) {
        return Path.of(containerPath).normalize().toString().substring(1);
    }

    /** The inode of the process's cgroup directory on the unified hierarchy (what bpf_get_current_cgroup_id gives). */
    static long cgroupIdOf(int pid) throws IOException {
        String unified = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            if (line.contains(" - cgroup2 ")) {
                unified = line.split(" ")[4];
            }
        }
        String path = null;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
            if (line.startsWith("0::")) {
                path = line.substring(3);
            }
        }
        if (unified == null || path == null) {
            return 0;
        }
        return Long.parseLong(HostCommands.run("stat", "-c", "%i", unified + path).trim());
    }

    static long mountNsOf(int pid) throws IOException {
        String link = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/mnt")).toString();
        return Long.parseLong(link.substring(link.indexOf('[') + 1, link.length() - 1));
    }

    static String upperDirOf(int pid) throws IOException {
        Matcher m = UPPERDIR.matcher(rootMountLine(pid));
        return m.find() ? m.group(1) : null;
    }

    private static String rootMountLine(int pid) throws IOException {
        String root = null;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo"))) {
            if (line.split(" ")[4].equals("/")) {
                root = line;
            }
        }
        return root;
    }

    private static long devOf(String mountInfoLine) {
        String[] mm = mountInfoLine.split(" ")[2].split(":");
        int major = Integer.parseInt(mm[0]);
        int minor = Integer.parseInt(mm[1]);
        return (minor & 0xff) | ((long) major << 8) | ((long) (minor & ~0xff) << 12);
    }

    /** The pid of a host process that has exited. */
    static int deadPid() {
        try {
            Process p = new ProcessBuilder("true").start();
            p.waitFor();
            return (int) p.pid();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Same event, as if the process had exited and the kernel gave no cgroup id. */
    static ExecEvent asFromGoneProcess(ExecEvent e, int deadPid, boolean keepCgroupId, boolean keepMountNs) {
        return new ExecEvent(deadPid, deadPid, e.ppid(), e.uid(), e.gid(), e.startTimeNs(), e.comm(), e.filename(),
                e.file(), e.interpreter(), keepCgroupId ? e.cgroupId() : 0, keepMountNs ? e.mountNsId() : 0, e.flags(),
                e.source(), e.timestampNs());
    }
}
