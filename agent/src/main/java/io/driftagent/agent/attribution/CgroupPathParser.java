package io.driftagent.agent.attribution;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises the container in a cgroup path, for the naming schemes of containerd (CRI and plain {@code ctr run}),
 * CRI-O and Docker, with the cgroupfs and systemd cgroup drivers, on cgroup v1 and v2. Pure: no I/O.
 *
 * <p>The innermost (last) component that names a container wins, so nested runtimes (Docker in Docker) resolve to
 * the innermost container. A cgroupfs Kubernetes path ({@code /kubepods/<qos>/pod<uid>/<id>}) does not name its
 * runtime; it is reported as containerd, the runtime of every current managed Kubernetes offering.
 */
public final class CgroupPathParser {

    private static final String HEX64 = "[0-9a-f]{64}";
    private static final Pattern SYSTEMD_SCOPE = Pattern.compile(
            "(cri-containerd|crio|docker|libpod)-(" + HEX64 + ")\\.scope");
    /** runc's "slice:prefix:name" cgroupsPath, left literal when the systemd driver is mis-configured. */
    private static final Pattern COLON_FORM = Pattern.compile(".*:(cri-containerd|crio|docker):(" + HEX64 + ")");
    private static final Pattern CRIO_CGROUPFS = Pattern.compile("crio-(" + HEX64 + ")");
    private static final Pattern BARE_ID = Pattern.compile(HEX64);
    private static final Pattern POD_CGROUPFS = Pattern.compile("pod([0-9a-fA-F-]{36})");
    private static final Pattern POD_SYSTEMD = Pattern.compile("kubepods(?:-[a-z]+)?-pod([0-9a-fA-F_]{36})\\.slice");
    private static final Pattern POD_COLON = Pattern.compile("kubepods(?:-[a-z]+)?-pod([0-9a-fA-F_]{36})\\.slice:.*");
    private static final Pattern CONTAINERD_NAMESPACE = Pattern.compile("[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*");
    private static final Set<String> HOST_TOP_LEVEL = Set.of("kubepods", "docker", "lxc", "init.scope", "system.slice",
            "user.slice", "machine.slice", "kubepods.slice", "libpod_parent", "systemd", "podruntime", "runtime");
    private static final List<String> UNIT_SUFFIXES = List.of(".slice", ".scope", ".service", ".mount", ".socket",
            ".swap", ".target");

    /** The container this cgroup path belongs to; empty for host cgroups (and for conmon / pod-level cgroups). */
    public Optional<CgroupIdentity> parse(String rawPath) {
        if (rawPath == null || rawPath.isEmpty()) {
            return Optional.empty();
        }
        List<String> parts = components(rawPath);
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        String path = "/" + String.join("/", parts);
        String podUid = podUid(parts);
        for (int i = parts.size() - 1; i >= 0; i--) {
            String part = parts.get(i);
            Matcher m = SYSTEMD_SCOPE.matcher(part);
            if (m.matches()) {
                return identity(m.group(2), runtimeOf(m.group(1)), podUid, path);
            }
            m = COLON_FORM.matcher(part);
            if (m.matches()) {
                return identity(m.group(2), runtimeOf(m.group(1)), podUid, path);
            }
            m = CRIO_CGROUPFS.matcher(part);
            if (m.matches()) {
                return identity(m.group(1), ContainerRuntime.CRIO, podUid, path);
            }
            if (BARE_ID.matcher(part).matches() && i > 0) {
                String parent = parts.get(i - 1);
                if (parent.equals("docker")) {
                    return identity(part, ContainerRuntime.DOCKER, podUid, path);
                }
                if (podUid != null && POD_CGROUPFS.matcher(parent).matches()) {
                    return identity(part, ContainerRuntime.CONTAINERD, podUid, path);
                }
            }
        }
        return plainContainerd(parts, path);
    }

    /**
     * The container of a process from the text of {@code /proc/<pid>/cgroup}. When the host has the unified (v2)
     * hierarchy mounted, its {@code 0::} line alone decides (runc places every container there too); otherwise
     * the {@code name=systemd} line, then any controller line.
     */
    public Optional<CgroupIdentity> parseProcCgroup(String procCgroupText, boolean unifiedHierarchyMounted) {
        String unified = null;
        String systemd = null;
        List<String> controllers = new ArrayList<>();
        for (String line : procCgroupText.split("\n")) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            String hierarchyId = line.substring(0, first);
            String names = line.substring(first + 1, second);
            String path = line.substring(second + 1);
            if (hierarchyId.equals("0") && names.isEmpty()) {
                unified = path;
            } else if (names.equals("name=systemd")) {
                systemd = path;
            } else {
                controllers.add(path);
            }
        }
        if (unifiedHierarchyMounted && unified != null) {
            return parse(unified);
        }
        if (systemd != null) {
            Optional<CgroupIdentity> bySystemd = parse(systemd);
            if (bySystemd.isPresent()) {
                return bySystemd;
            }
        }
        for (String path : controllers) {
            Optional<CgroupIdentity> identity = parse(path);
            if (identity.isPresent()) {
                return identity;
            }
        }
        return unified == null ? Optional.empty() : parse(unified);
    }

    /** Path components, without the {@code ..} components a cgroup namespace shows for cgroups outside it. */
    private static List<String> components(String rawPath) {
        List<String> parts = new ArrayList<>();
        for (String part : rawPath.trim().split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                continue;
            }
            parts.add(part);
        }
        return parts;
    }

    private static String podUid(List<String> parts) {
        for (String part : parts) {
            Matcher m = POD_CGROUPFS.matcher(part);
            if (m.matches()) {
                return m.group(1).toLowerCase(Locale.ROOT);
            }
            m = POD_SYSTEMD.matcher(part);
            if (m.matches() || (m = POD_COLON.matcher(part)).matches()) {
                return m.group(1).replace('_', '-').toLowerCase(Locale.ROOT);
            }
        }
        return null;
    }

    /** {@code ctr run} without {@code --cgroup}: {@code /<namespace>/<container>}. */
    private static Optional<CgroupIdentity> plainContainerd(List<String> parts, String path) {
        if (parts.size() != 2) {
            return Optional.empty();
        }
        String namespace = parts.get(0);
        String name = parts.get(1);
        if (HOST_TOP_LEVEL.contains(namespace) || namespace.startsWith("kubepods") || isSystemdUnit(namespace)
                || isSystemdUnit(name) || !CONTAINERD_NAMESPACE.matcher(namespace).matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new CgroupIdentity(new ContainerId(name), ContainerRuntime.CONTAINERD, null, path));
        } catch (IllegalArgumentException notAnId) {
            return Optional.empty();
        }
    }

    private static boolean isSystemdUnit(String name) {
        return UNIT_SUFFIXES.stream().anyMatch(name::endsWith);
    }

    private static Optional<CgroupIdentity> identity(String id, ContainerRuntime runtime, String podUid, String path) {
        return Optional.of(new CgroupIdentity(new ContainerId(id), runtime, podUid, path));
    }

    private static ContainerRuntime runtimeOf(String prefix) {
        return switch (prefix) {
            case "cri-containerd" -> ContainerRuntime.CONTAINERD;
            case "crio" -> ContainerRuntime.CRIO;
            case "docker" -> ContainerRuntime.DOCKER;
            default -> ContainerRuntime.UNKNOWN;
        };
    }
}
