package io.driftagent.agent.source.fanotify;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link FanotifyExecSource}.
 *
 * @param watchHostRoot       mark the filesystem of {@code /} at start (the host root: container layers live there)
 * @param correlationWindow   how long to wait for the further opens of one execve (interpreter, twin report)
 * @param readBufferBytes     bytes read from the fanotify fd per read(2) (24 bytes per event)
 * @param unlimitedKernelQueue FAN_UNLIMITED_QUEUE: never overflow, at the price of unbounded kernel memory
 * @param procRoot            /proc
 * @param cgroup2Root         where cgroup v2 is mounted, or null to find it in /proc/self/mountinfo
 * @param readCoalescing      pause after a small batch so events are read in batches (adds that much latency)
 */
public record FanotifySourceConfig(
        boolean watchHostRoot,
        Duration correlationWindow,
        int readBufferBytes,
        boolean unlimitedKernelQueue,
        Path procRoot,
        Path cgroup2Root,
        Duration readCoalescing) {

    public FanotifySourceConfig {
        Objects.requireNonNull(correlationWindow, "correlationWindow");
        Objects.requireNonNull(procRoot, "procRoot");
        if (correlationWindow.isNegative() || correlationWindow.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new IllegalArgumentException("correlationWindow must be within 0..1s: " + correlationWindow);
        }
        Objects.requireNonNull(readCoalescing, "readCoalescing");
        if (readCoalescing.isNegative() || readCoalescing.compareTo(Duration.ofMillis(100)) > 0) {
            throw new IllegalArgumentException("readCoalescing must be within 0..100ms: " + readCoalescing);
        }
        if (readBufferBytes < 4096 || readBufferBytes > (16 << 20)) {
            throw new IllegalArgumentException("readBufferBytes must be within 4 KiB..16 MiB: " + readBufferBytes);
        }
    }

    public static FanotifySourceConfig defaults() {
        return new FanotifySourceConfig(true, Duration.ofMillis(50), 64 * 1024, false, Path.of("/proc"), null, Duration.ofMillis(5));
    }

    public FanotifySourceConfig withWatchHostRoot(boolean watch) {
        return new FanotifySourceConfig(watch, correlationWindow, readBufferBytes, unlimitedKernelQueue, procRoot, cgroup2Root,
                readCoalescing);
    }
}
