package io.driftagent.agent.pipeline;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * Turns an exec's capture timestamp ({@code ExecEvent.timestampNs}: CLOCK_MONOTONIC ns, the kernel's
 * {@code bpf_ktime_get_ns()} for eBPF, the read time for fanotify) into wall-clock time. The offset between the wall
 * clock and CLOCK_MONOTONIC is measured once and measured again every {@value #REMEASURE_SECONDS} s, so a wall-clock
 * step (NTP, a suspended VM) is followed within that time. A timestamp that cannot be the exec's (0, in the future,
 * or more than an hour old) is replaced by the current wall-clock time. Thread-safe.
 */
final class ExecWallClock {
    static final long REMEASURE_SECONDS = 10;
    private static final long REMEASURE_NANOS = REMEASURE_SECONDS * 1_000_000_000L;
    private static final long MAX_AGE_NANOS = 3_600L * 1_000_000_000L;
    private static final long FUTURE_TOLERANCE_NANOS = 1_000_000L;

    /** Wall-clock epoch ns minus monotonic ns, and when (monotonic) it was measured. */
    private record Offset(long wallMinusMonotonicNs, long measuredAtNs) {
    }

    private final Clock wall;
    private final MonotonicClock monotonic;
    private volatile Offset offset;

    ExecWallClock(Clock wall, MonotonicClock monotonic) {
        this.wall = Objects.requireNonNull(wall, "wall");
        this.monotonic = Objects.requireNonNull(monotonic, "monotonic");
    }

    /** The wall-clock time of a CLOCK_MONOTONIC timestamp. */
    Instant toWallClock(long monotonicNs) {
        long now = monotonic.nanoTime();
        Offset current = offset;
        if (current == null || now - current.measuredAtNs() > REMEASURE_NANOS || now - current.measuredAtNs() < 0) {
            current = measure();
            offset = current;
            now = current.measuredAtNs();
        }
        long age = now - monotonicNs;
        if (monotonicNs == 0 || age > MAX_AGE_NANOS || age < -FUTURE_TOLERANCE_NANOS) {
            return wall.instant();
        }
        long epochNs = monotonicNs + current.wallMinusMonotonicNs();
        return Instant.ofEpochSecond(Math.floorDiv(epochNs, 1_000_000_000L), Math.floorMod(epochNs, 1_000_000_000L));
    }

    /** Reads the wall clock between two monotonic reads and pairs it with their midpoint. */
    private Offset measure() {
        long before = monotonic.nanoTime();
        Instant instant = wall.instant();
        long after = monotonic.nanoTime();
        long mid = before + (after - before) / 2;
        long wallNs = instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
        return new Offset(wallNs - mid, after);
    }
}
