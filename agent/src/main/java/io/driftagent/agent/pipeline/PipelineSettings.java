package io.driftagent.agent.pipeline;

import java.time.Duration;
import java.util.List;

/**
 * Sizes and schedules of the pipeline.
 *
 * @param sourceQueueCapacity the first queue, fed by the source's reader thread (absorbs exec bursts)
 * @param stageQueueCapacity  every later stage's input queue
 * @param parkingCapacity     execs that may wait for late workload metadata at once
 * @param metadataRetries     when to look again for late metadata, as offsets from the first miss, ascending;
 *                            empty = never wait
 * @param stageHistograms     per-stage latency histograms (opt-in: buckets x stages are many series); false = each
 *                            stage's latency as a count and a sum
 */
public record PipelineSettings(int sourceQueueCapacity, int stageQueueCapacity, int parkingCapacity,
                               List<Duration> metadataRetries, boolean stageHistograms) {

    public static final List<Duration> DEFAULT_RETRIES = List.of(
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1));

    public PipelineSettings {
        if (sourceQueueCapacity < 1 || stageQueueCapacity < 1) {
            throw new IllegalArgumentException("queue capacities must be at least 1");
        }
        if (parkingCapacity < 0) {
            throw new IllegalArgumentException("parking capacity must not be negative");
        }
        metadataRetries = List.copyOf(metadataRetries);
        for (int i = 0; i < metadataRetries.size(); i++) {
            if (metadataRetries.get(i).isNegative() || metadataRetries.get(i).isZero()
                    || (i > 0 && metadataRetries.get(i).compareTo(metadataRetries.get(i - 1)) <= 0)) {
                throw new IllegalArgumentException("metadata retries must be positive and ascending: " + metadataRetries);
            }
        }
    }

    /** Without per-stage histograms. */
    public PipelineSettings(int sourceQueueCapacity, int stageQueueCapacity, int parkingCapacity,
                            List<Duration> metadataRetries) {
        this(sourceQueueCapacity, stageQueueCapacity, parkingCapacity, metadataRetries, false);
    }

    public static PipelineSettings defaults() {
        return new PipelineSettings(8192, 1024, 1024, DEFAULT_RETRIES);
    }

    long[] retryOffsetsNanos() {
        return metadataRetries.stream().mapToLong(Duration::toNanos).toArray();
    }
}
