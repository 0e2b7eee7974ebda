package io.driftagent.agent.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Finds where the cgroup v2 (unified) hierarchy is mounted: /sys/fs/cgroup on v2 hosts, .../unified on hybrid ones. */
final class UnifiedCgroup {
    private UnifiedCgroup() {
    }

    static Optional<Path> mountPoint() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
            for (String line : lines) {
                int dash = line.indexOf(" - ");
                if (dash < 0) {
                    continue;
                }
                String[] after = line.substring(dash + 3).split(" ");
                if (after.length > 0 && after[0].equals("cgroup2")) {
                    return Optional.of(Path.of(line.split(" ")[4]));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
