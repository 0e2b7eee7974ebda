package io.driftagent.agent.provenance;

import io.driftagent.agent.source.ExecEvent.FileId;
import java.util.List;
import java.util.Objects;

/**
 * One decoded write record: a process in a container opened a regular file for writing (the first time for that file
 * and that process), or, when {@code remoteUpdate}, a process that wrote before connected to a new TCP peer.
 *
 * @param tgid        the writer's process id (host pid namespace)
 * @param startTimeNs the writer's start time (CLOCK_BOOTTIME ns), as the exec record's: with tgid, who it is
 * @param timestampNs when it opened the file (CLOCK_MONOTONIC ns, the exec record's clock)
 * @param mountNs     the writer's mount namespace inode: the container the bounds are kept by
 * @param file        the file (dev in stat(2) encoding); {@link FileId#NONE} for a remote update
 * @param exe         the writer's executable, its path in its container; null when unknown
 * @param argv        the writer's arguments (a bounded prefix), empty when unknown
 * @param remote      {@code address:port} of the writer's last TCP peer, null when none
 */
public record WriteRecord(int tgid, long startTimeNs, long timestampNs, long mountNs, FileId file, String exe,
                          List<String> argv, String remote, boolean remoteUpdate) {
    public WriteRecord {
        Objects.requireNonNull(file, "file");
        argv = List.copyOf(argv);
        if (!remoteUpdate && !file.isKnown()) {
            throw new IllegalArgumentException("a write record names its file");
        }
    }
}
