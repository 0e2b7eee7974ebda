package io.driftagent.agent.proc;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the host's cgroup hierarchies are mounted, from the agent's own mountinfo.
 *
 * @param unified the cgroup v2 (unified) hierarchy: {@code /sys/fs/cgroup} on a pure v2 host,
 *                {@code /sys/fs/cgroup/unified} on a hybrid one; empty on a pure v1 host
 * @param legacy  a v1 hierarchy every container gets a cgroup in ({@code name=systemd}, else {@code pids}), if any
 */
public record CgroupMounts(Optional<Path> unified, Optional<Path> legacy) {

    /** From the text of {@code /proc/self/mountinfo}; paths are prefixed with {@code hostRoot} if they are not under it. */
    public static CgroupMounts fromMountInfo(String selfMountInfo) {
        List<MountInfoEntry> entries = new MountInfoParser().parse(selfMountInfo);
        Path unified = null;
        Path systemd = null;
        Path pids = null;
        for (MountInfoEntry e : entries) {
            if (e.fsType().equals("cgroup2") && e.root().equals("/")) {
                if (unified == null || e.mountPoint().equals("/sys/fs/cgroup")) {
                    unified = Path.of(e.mountPoint());
                }
            } else if (e.fsType().equals("cgroup") && e.root().equals("/")) {
                if (e.superOptions().contains("name=systemd")) {
                    systemd = Path.of(e.mountPoint());
                } else if (e.superOptions().contains("pids")) {
                    pids = Path.of(e.mountPoint());
                }
            }
        }
        return new CgroupMounts(Optional.ofNullable(unified), Optional.ofNullable(systemd != null ? systemd : pids));
    }

    /** The hierarchy whose directories tell whether a container's cgroup still exists. */
    public Optional<Path> livenessTree() {
        return unified.isPresent() ? unified : legacy;
    }
}
