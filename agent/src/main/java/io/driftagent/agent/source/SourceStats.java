package io.driftagent.agent.source;

import java.util.Map;

/**
 * A snapshot of a source's counters.
 *
 * @param delivered events handed to the sink and accepted
 * @param lost      events lost, by reason (e.g. "ringbuf_full", "queue_full", "fanotify_overflow")
 */
public record SourceStats(long delivered, Map<String, Long> lost) {
    public SourceStats {
        lost = Map.copyOf(lost);
    }

    public long totalLost() {
        return lost.values().stream().mapToLong(Long::longValue).sum();
    }
}
