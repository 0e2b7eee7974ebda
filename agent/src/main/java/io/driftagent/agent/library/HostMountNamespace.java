package io.driftagent.agent.library;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The host's mount namespace, as the inode number of {@code /proc/1/ns/mnt} (init's: the agent itself may run in a
 * pod's own namespace, with the host's pids), else the agent's own. The library program skips mappings by processes in it: the host's own
 * processes are not in a container.
 */
public final class HostMountNamespace {

    private HostMountNamespace() {
    }

    /**
     * The inode of {@code <procRoot>/1/ns/mnt}; when that cannot be read (a sandbox that hides init's namespaces), the
     * agent's own ({@code <procRoot>/self/ns/mnt}): on a host that is the host's, in a pod the agent's own
     * container's, which holds no workload. Empty when neither can be read (then nothing is skipped by it).
     */
    public static OptionalLong inode(Path procRoot) {
        OptionalLong init = read(procRoot.resolve("1/ns/mnt"));
        return init.isPresent() ? init : read(procRoot.resolve("self/ns/mnt"));
    }

    private static OptionalLong read(Path link) {
        try {
            return parse(Files.readSymbolicLink(link).toString());
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return OptionalLong.empty();
        }
    }

    /** {@code mnt:[4026531841]} to 4026531841; empty for anything else. */
    static OptionalLong parse(String link) {
        if (!link.startsWith("mnt:[") || !link.endsWith("]")) {
            return OptionalLong.empty();
        }
        try {
            long inode = Long.parseLong(link.substring(5, link.length() - 1));
            return inode > 0 && inode <= 0xFFFF_FFFFL ? OptionalLong.of(inode) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
