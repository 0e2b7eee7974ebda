package io.driftagent.systest.kubelet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the node's container runtime can grant, as far as the translation to {@code docker run} needs it.
 *
 * @param boundingSet          capability names (without {@code CAP_}) in this machine's bounding set: a runtime
 *                             cannot grant what it does not hold itself
 * @param dockerKnowsBpfPerfmon whether this Docker accepts {@code --cap-add BPF/PERFMON} (20.10 does not)
 * @param memoryTmpfsNoexec    a hardened node whose memory-backed volumes are mounted {@code noexec} (kubelet's
 *                             are not; Docker's {@code --tmpfs} is by default)
 */
public record NodeRuntime(Set<String> boundingSet, boolean dockerKnowsBpfPerfmon, boolean memoryTmpfsNoexec) {

    /** Capability numbers of linux/capability.h, index = number. */
    static final List<String> CAPABILITIES = List.of("CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
            "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
            "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
            "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
            "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
            "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE");

    public NodeRuntime {
        boundingSet = Set.copyOf(boundingSet);
    }

    public NodeRuntime withMemoryTmpfsNoexec(boolean noexec) {
        return new NodeRuntime(boundingSet, dockerKnowsBpfPerfmon, noexec);
    }

    /** The names of the capabilities in a {@code CapBnd:} hex mask. */
    static Set<String> decode(long mask) {
        Set<String> names = new TreeSet<>();
        for (int bit = 0; bit < CAPABILITIES.size(); bit++) {
            if ((mask & (1L << bit)) != 0) {
                names.add(CAPABILITIES.get(bit));
            }
        }
        return names;
    }

    /** This machine's bounding set, read from {@code /proc/self/status}. */
    public static Set<String> hostBoundingSet() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapBnd:")) {
                return decode(Long.parseUnsignedLong(line.substring("CapBnd:".length()).trim(), 16));
            }
        }
        throw new IOException("/proc/self/status has no CapBnd line");
    }
}
