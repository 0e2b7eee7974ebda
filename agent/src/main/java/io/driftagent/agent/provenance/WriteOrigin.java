package io.driftagent.agent.provenance;

import java.util.List;
import java.util.Objects;

/**
 * The answer for one drifted file: its last writer as recorded, or why it is unknown.
 *
 * @param pid         the writer's process id; with the others null/empty when unknown
 * @param exe         the writer's latest image (its path in the container), null when not known
 * @param cmdline     the writer's command line (of that image)
 * @param timestampNs when it opened the file for writing, CLOCK_MONOTONIC ns (the exec records' clock)
 * @param remote      the writer's last TCP peer, {@code address:port}, else null
 * @param unknown     why the writer is unknown, null when it is known
 */
public record WriteOrigin(Integer pid, String exe, List<String> cmdline, long timestampNs, String remote,
                          OriginUnknown unknown) {
    public WriteOrigin {
        cmdline = List.copyOf(cmdline);
        if (unknown == null) {
            Objects.requireNonNull(pid, "pid");
        }
    }

    static WriteOrigin unknown(OriginUnknown why) {
        return new WriteOrigin(null, null, List.of(), 0, null, Objects.requireNonNull(why, "why"));
    }

    public boolean known() {
        return unknown == null;
    }
}
