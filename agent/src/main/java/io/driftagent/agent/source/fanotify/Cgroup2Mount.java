package io.driftagent.agent.source.fanotify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds where the cgroup v2 (unified) hierarchy is mounted: /sys/fs/cgroup on v2 hosts, .../unified on hybrid. */
public final class Cgroup2Mount {

    private Cgroup2Mount() {
    }

    /**
     * The mount point of the unified hierarchy, or null when there is none, or when this process is in a private
     * cgroup namespace (the mount's root shows as {@code /../..}): there {@code /proc/<pid>/cgroup} paths are relative
     * to the namespace and do not name directories under the mount; the cgroup is left unknown (0) for attribution
     * to read from /proc through its namespace view.
     */
    public static Path find(Path procRoot) {
        try {
            String text = new String(Files.readAllBytes(procRoot.resolve("self/mountinfo")), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                int sep = line.indexOf(" - ");
                if (sep > 0 && line.substring(sep + 3).startsWith("cgroup2 ")) {
                    String[] fields = line.substring(0, sep).split(" ");
                    if (fields.length < 5 || fields[3].startsWith("/..")) {
                        return null;
                    }
                    return Path.of(io.driftagent.agent.host.MountInfoParser.unescape(fields[4]));
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }
}
