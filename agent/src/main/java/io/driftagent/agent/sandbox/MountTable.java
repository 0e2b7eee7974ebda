package io.driftagent.agent.sandbox;

import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.attribution.ContainerMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Looks up one of this process's own mounts (the sandbox's overlay) in /proc/self/mountinfo. */
final class MountTable {
    private MountTable() {
    }

    static Optional<ContainerMount> find(Path mountPoint) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = line.indexOf(" - ");
            if (f.length < 10 || dash < 0 || !f[4].equals(mountPoint.toString())) {
                continue;
            }
            String[] after = line.substring(dash + 3).split(" ");
            String[] majorMinor = f[2].split(":");
            long major = Long.parseLong(majorMinor[0]);
            long minor = Long.parseLong(majorMinor[1]);
            long dev = DeviceNumber.makedev(major, minor);
            return Optional.of(new ContainerMount(Integer.parseInt(f[0]), dev, "/", f[3], after[0], after[1]));
        }
        return Optional.empty();
    }
}
