package io.driftagent.agent.sandbox;

import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.host.MountInfoEntry;
import io.driftagent.agent.host.MountInfoParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Looks up one of this process's own mounts (the sandbox's overlay) in /proc/self/mountinfo. */
final class MountTable {
    private MountTable() {
    }

    /** The first mount at {@code mountPoint}, as the sandbox's root ({@code /}); empty when nothing is mounted there. */
    static Optional<ContainerMount> find(Path mountPoint) throws IOException {
        return find(new String(Files.readAllBytes(Path.of("/proc/self/mountinfo")), StandardCharsets.UTF_8),
                mountPoint);
    }

    /** The same, over a mountinfo text. */
    static Optional<ContainerMount> find(String mountInfo, Path mountPoint) {
        for (MountInfoEntry e : new MountInfoParser().parse(mountInfo)) {
            if (e.mountPoint().equals(mountPoint.toString())) {
                return Optional.of(new ContainerMount(e.mountId(), e.dev(), "/", e.root(), e.fsType(), e.source()));
            }
        }
        return Optional.empty();
    }
}
