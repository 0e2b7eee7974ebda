package io.driftagent.agent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This host's name from the kernel (no DNS): {@code /proc/sys/kernel/hostname}, else {@code /etc/hostname}. */
final class HostName {

    private HostName() {
    }

    static String read() {
        for (Path candidate : new Path[] {Path.of("/proc/sys/kernel/hostname"), Path.of("/etc/hostname")}) {
            try {
                String name = Files.readString(candidate).trim();
                if (!name.isEmpty() && name.length() <= 253) {
                    return name;
                }
            } catch (IOException | SecurityException unreadable) {
                // try the next source
            }
        }
        return null;
    }
}
