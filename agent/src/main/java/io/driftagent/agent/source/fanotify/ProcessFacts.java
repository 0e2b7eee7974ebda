package io.driftagent.agent.source.fanotify;

import java.util.Objects;

/**
 * What /proc said about a process at one moment; every field falls back to 0 / "" when the process was gone.
 *
 * @param startTimeNs start time since boot in ns (/proc/pid/stat field 22, clock ticks converted)
 */
record ProcessFacts(int tgid, int ppid, int uid, int gid, long startTimeNs, String comm, long cgroupId, long mountNsId) {

    static ProcessFacts unknown(int pid) {
        return new ProcessFacts(pid, 0, -1, -1, 0L, "", 0L, 0L);
    }

    ProcessFacts {
        Objects.requireNonNull(comm, "comm");
    }

    boolean known() {
        return startTimeNs != 0L;
    }
}
