package io.driftagent.agent.attribution;

import io.driftagent.agent.host.CgroupMounts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns cgroup paths as the kernel shows them to the agent into paths on the host's hierarchy.
 *
 * <p>In a private cgroup namespace (what containerd gives a non-privileged pod on cgroup v2, {@code docker run
 * --cgroupns=private}) the kernel shows every cgroup path relative to the agent's own cgroup, the namespace root:
 * {@code /proc/<pid>/cgroup} of a host process reads {@code 0::/../..}, a sibling container's
 * {@code 0::/../<id>}, and the hostPath-mounted host hierarchy has the root {@code /../..} in mountinfo. Dropping
 * the {@code ..} (as a plain parser would) turns a host process's {@code memory:/../../process_api/<hex>} into
 * {@code /process_api/<hex>}, which looks like a {@code ctr run} container. This view puts the namespace root back:
 * a path with {@code a} leading {@code ..} is the first {@code depth - a} components of the agent's own cgroup
 * (found once, on the mounted host hierarchy) followed by the rest. Outside a cgroup namespace it changes nothing.
 * Runtimes create a container's cgroup at the same path in every hierarchy, so the one root serves every line.
 */
public final class CgroupNamespaceView {

    private static final Logger LOG = LoggerFactory.getLogger(CgroupNamespaceView.class);
    private static final int MAX_DIRECTORIES_SEARCHED = 100_000;

    /** The agent's namespace root on the host hierarchy, as components; null when it could not be found. */
    private final List<String> root;
    /** How many levels below the host hierarchy's root the namespace root is ({@code 0}: no cgroup namespace). */
    private final int depth;

    private CgroupNamespaceView(List<String> root, int depth) {
        this.root = root == null ? null : List.copyOf(root);
        this.depth = depth;
    }

    /** No cgroup namespace (or the host's own): paths are shown as they are on the host. */
    public static CgroupNamespaceView host() {
        return new CgroupNamespaceView(List.of(), 0);
    }

    /** A namespace rooted at this host cgroup path ({@code /docker/<id>}, {@code /kubepods/.../<id>}). */
    public static CgroupNamespaceView rootedAt(String hostPath) {
        List<String> components = components(hostPath).downs();
        return new CgroupNamespaceView(components, components.size());
    }

    /** A namespace {@code depth} levels deep whose root could not be found: paths lose their {@code ..} only. */
    static CgroupNamespaceView unresolved(int depth) {
        return new CgroupNamespaceView(null, depth);
    }

    /**
     * The view of the process {@code ownPid}: from the depth the mounts show (their root {@code /../..}), the
     * namespace root is the directory of that depth in the mounted hierarchy whose {@code cgroup.procs} lists
     * {@code ownPid}.
     */
    public static CgroupNamespaceView discover(CgroupMounts mounts, long ownPid) {
        int depth = mounts.namespaceDepth();
        Optional<Path> tree = mounts.livenessTree();
        if (depth == 0 || tree.isEmpty()) {
            return host();
        }
        Optional<String> found = findCgroupOf(tree.get(), depth, Long.toString(ownPid));
        if (found.isEmpty()) {
            LOG.warn("in a cgroup namespace {} levels deep but the agent's own cgroup is not found under {}: cgroup paths"
                    + " of other processes are read without their namespace prefix", depth, tree.get());
            return unresolved(depth);
        }
        LOG.info("in a private cgroup namespace rooted at {} on the host hierarchy {}: cgroup paths are read as the"
                + " host's", found.get(), tree.get());
        return rootedAt(found.get());
    }

    /** The host path of a cgroup path as shown in this namespace. */
    public String toHostPath(String shown) {
        Components c = components(shown);
        if (c.ups() == 0 && depth == 0) {
            return shown;
        }
        List<String> host = new ArrayList<>();
        if (root != null && c.ups() <= root.size()) {
            host.addAll(root.subList(0, root.size() - c.ups()));
        }
        host.addAll(c.downs());
        return "/" + String.join("/", host);
    }

    /** The text of a {@code /proc/<pid>/cgroup} with each line's path turned into the host's. */
    public String translateProcCgroup(String text) {
        if (depth == 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 64);
        for (String line : text.split("\n")) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            out.append(line, 0, second + 1).append(toHostPath(line.substring(second + 1))).append('\n');
        }
        return out.toString();
    }

    /** Whether the agent is in a cgroup namespace below the host's root. */
    public boolean namespaced() {
        return depth > 0;
    }

    @Override
    public String toString() {
        return depth == 0 ? "host" : root == null ? "namespace " + depth + " deep, root unknown"
                : "namespace rooted at /" + String.join("/", root);
    }

    private record Components(int ups, List<String> downs) {
    }

    /** Leading {@code ..} counted, the rest as components ({@code .} and empty dropped; a later {@code ..} pops). */
    private static Components components(String path) {
        int ups = 0;
        List<String> downs = new ArrayList<>();
        for (String part : path.trim().split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (downs.isEmpty()) {
                    ups++;
                } else {
                    downs.remove(downs.size() - 1);
                }
                continue;
            }
            downs.add(part);
        }
        return new Components(ups, downs);
    }

    /** Breadth-first to exactly {@code depth} levels; the first directory whose cgroup.procs lists the pid. */
    private static Optional<String> findCgroupOf(Path tree, int depth, String pid) {
        List<Path> level = List.of(tree);
        int searched = 0;
        for (int d = 0; d < depth && !level.isEmpty(); d++) {
            List<Path> next = new ArrayList<>();
            for (Path dir : level) {
                try (DirectoryStream<Path> children = Files.newDirectoryStream(dir,
                        p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                    for (Path child : children) {
                        if (++searched > MAX_DIRECTORIES_SEARCHED) {
                            return Optional.empty();
                        }
                        next.add(child);
                    }
                } catch (IOException | RuntimeException vanished) {
                    // a cgroup removed while we looked
                }
            }
            level = next;
        }
        for (Path dir : level) {
            if (lists(dir.resolve("cgroup.procs"), pid)) {
                return Optional.of("/" + tree.relativize(dir));
            }
        }
        return Optional.empty();
    }

    private static boolean lists(Path procs, String pid) {
        try (InputStream in = Files.newInputStream(procs)) {
            String text = new String(in.readNBytes(1 << 20), StandardCharsets.US_ASCII);
            for (String line : text.split("\n")) {
                if (line.trim().equals(pid)) {
                    return true;
                }
            }
        } catch (IOException gone) {
            return false;
        }
        return false;
    }
}
