package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.host.MountInfoEntry;
import io.driftagent.agent.host.MountInfoParser;
import io.driftagent.agent.host.OverlayOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The overlay mounts of one mountinfo text, in the shape the upper-layer check needs. */
final class OverlayMountTable {

    private static final MountInfoParser PARSER = new MountInfoParser();

    private OverlayMountTable() {
    }

    static List<OverlayMount> overlays(String mountinfo) {
        return overlays(PARSER.parse(mountinfo));
    }

    static List<OverlayMount> overlays(List<MountInfoEntry> entries) {
        List<OverlayMount> out = new ArrayList<>();
        for (MountInfoEntry entry : entries) {
            if (!entry.fsType().equals("overlay")) {
                continue;
            }
            OverlayOptions options = OverlayOptions.fromSuperOptions(entry.superOptions());
            List<Path> lowers = options.lowerDirs().stream().map(Path::of).toList();
            Path upper = options.upperDir() == null ? null : Path.of(options.upperDir());
            out.add(new OverlayMount(entry.dev(), entry.mountPoint(), lowers, upper));
        }
        return out;
    }
}
