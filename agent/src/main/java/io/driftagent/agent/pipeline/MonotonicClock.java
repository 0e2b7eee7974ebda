package io.driftagent.agent.pipeline;

/**
 * CLOCK_MONOTONIC in nanoseconds: the clock of {@code ExecEvent.timestampNs}. On Linux, HotSpot's
 * {@link System#nanoTime()} reads CLOCK_MONOTONIC without an offset, so it is directly comparable with the
 * kernel's {@code bpf_ktime_get_ns()}.
 */
@FunctionalInterface
public interface MonotonicClock {
    MonotonicClock SYSTEM = System::nanoTime;

    long nanoTime();
}
