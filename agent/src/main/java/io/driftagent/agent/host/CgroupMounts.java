package io.driftagent.agent.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the host's cgroup hierarchies are mounted, from the agent's own mountinfo: the one place the cgroup v2
 * (unified) mount is found, for attribution, capture, the fanotify source and guard, and the self-test sandbox.
 *
 * <p>A hierarchy counts when its mount shows it from its root: mountinfo root {@code /} on the host, or only
 * {@code ..} components ({@code /../..}) when the agent is in a private cgroup namespace and the host's
 * {@code /sys/fs/cgroup} is bind-mounted in (the chart's hostPath): the kernel shows a mount's root relative to the
 * reader's cgroup namespace root. A fresh cgroup mount made inside the namespace (root {@code /}, showing only the
 * pod's own subtree) loses to a bind mount of the host's hierarchy.
 *
 * @param unified        the cgroup v2 (unified) hierarchy: {@code /sys/fs/cgroup} on a pure v2 host,
 *                       {@code /sys/fs/cgroup/unified} on a hybrid one; empty on a pure v1 host
 * @param legacy         a v1 hierarchy every container gets a cgroup in ({@code name=systemd}, else {@code pids}), if any
 * @param namespaceDepth how many {@code ..} the root of the chosen hierarchy shows: how deep below the host's root
 *                       the agent's cgroup namespace is rooted ({@code 0}: no cgroup namespace)
 */
public record CgroupMounts(Optional<Path> unified, Optional<Path> legacy, int namespaceDepth) {

    public CgroupMounts {
        Objects.requireNonNull(unified, "unified");
        Objects.requireNonNull(legacy, "legacy");
        if (namespaceDepth < 0) {
            throw new IllegalArgumentException("namespaceDepth < 0: " + namespaceDepth);
        }
    }

    /** Mounts seen outside any cgroup namespace. */
    public CgroupMounts(Optional<Path> unified, Optional<Path> legacy) {
        this(unified, legacy, 0);
    }

    /** This process's view: from {@code <procRoot>/self/mountinfo}. */
    public static CgroupMounts ofThisProcess(Path procRoot) throws IOException {
        return fromMountInfo(new String(Files.readAllBytes(procRoot.resolve("self/mountinfo")), StandardCharsets.UTF_8));
    }

    /**
     * This process's view of the unified hierarchy at the host's cgroup root ({@link #unifiedAtHostRoot()}); empty
     * too when {@code <procRoot>/self/mountinfo} cannot be read (logged).
     */
    public static Optional<Path> unifiedAtHostRoot(Path procRoot) {
        try {
            return ofThisProcess(procRoot).unifiedAtHostRoot();
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(CgroupMounts.class).warn(
                    "cannot read {}/self/mountinfo: the cgroup v2 mount is unknown: {}", procRoot, e.toString());
            return Optional.empty();
        }
    }

    /** From the text of {@code /proc/self/mountinfo}. */
    public static CgroupMounts fromMountInfo(String selfMountInfo) {
        List<MountInfoEntry> entries = new MountInfoParser().parse(selfMountInfo);
        Candidate unified = null;
        Candidate systemd = null;
        Candidate pids = null;
        for (MountInfoEntry e : entries) {
            int ups = upsOnly(e.root());
            if (ups < 0) {
                continue; // a subtree of a hierarchy (a nested runtime's bind of one cgroup), not the whole of it
            }
            Candidate c = new Candidate(Path.of(e.mountPoint()), ups);
            if (e.fsType().equals("cgroup2")) {
                unified = better(unified, c);
            } else if (e.fsType().equals("cgroup")) {
                if (e.superOptions().contains("name=systemd")) {
                    systemd = better(systemd, c);
                } else if (e.superOptions().contains("pids")) {
                    pids = better(pids, c);
                }
            }
        }
        Candidate legacy = systemd != null ? systemd : pids;
        Candidate tree = unified != null ? unified : legacy;
        return new CgroupMounts(Optional.ofNullable(unified).map(Candidate::mountPoint),
                Optional.ofNullable(legacy).map(Candidate::mountPoint), tree == null ? 0 : tree.ups());
    }

    /** The hierarchy whose directories tell whether a container's cgroup still exists. */
    public Optional<Path> livenessTree() {
        return unified.isPresent() ? unified : legacy;
    }

    /**
     * The unified hierarchy when the agent sees it from the host's cgroup root (no cgroup namespace, or none that
     * shows): there a {@code /proc/<pid>/cgroup} path names the directory under it whose inode is the cgroup id. Empty
     * when there is no unified hierarchy or the agent is in a private cgroup namespace (paths are then relative to the
     * namespace; attribution reads them through its {@code CgroupNamespaceView}).
     */
    public Optional<Path> unifiedAtHostRoot() {
        return namespaceDepth == 0 ? unified : Optional.empty();
    }

    private record Candidate(Path mountPoint, int ups) {
    }

    /** The one that shows more of the hierarchy (more {@code ..}), then the one at /sys/fs/cgroup, then the first. */
    private static Candidate better(Candidate current, Candidate c) {
        if (current == null || c.ups() > current.ups()) {
            return c;
        }
        if (c.ups() == current.ups() && c.mountPoint().equals(Path.of("/sys/fs/cgroup"))) {
            return c;
        }
        return current;
    }

    /** {@code /} -> 0, {@code /../..} -> 2; -1 when the root names a cgroup (the mount shows a subtree). */
    private static int upsOnly(String root) {
        int ups = 0;
        for (String part : root.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            if (!part.equals("..")) {
                return -1;
            }
            ups++;
        }
        return ups;
    }
}
