package io.driftagent.agent.source.fanotify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds where the cgroup v2 (unified) hierarchy is mounted: /sys/fs/cgroup on v2 hosts, .../unified on hybrid. */
final class Cgroup2Mount {

    private Cgroup2Mount() {
    }

    static Path find(Path procRoot) {
        try {
            String text = new String(Files.readAllBytes(procRoot.resolve("self/mountinfo")), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                int sep = line.indexOf(" - ");
                if (sep > 0 && line.substring(sep + 3).startsWith("cgroup2 ")) {
                    return Path.of(io.driftagent.agent.proc.MountInfoParser.unescape(line.substring(0, sep).split(" ")[4]));
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }
}
