package io.driftagent.reporter.k8s;

import java.time.Clock;
import java.util.Objects;

/** A token bucket: {@code burst} tokens, refilled at {@code perSecond}. Not thread-safe; callers synchronize. */
final class TokenBucket {

    private final double perMilli;
    private final double burst;
    private final Clock clock;
    private double tokens;
    private long lastRefillMillis;

    TokenBucket(double perSecond, int burst, Clock clock) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate must be > 0 and burst >= 1: " + perSecond + ", " + burst);
        }
        this.perMilli = perSecond / 1000.0;
        this.burst = burst;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.tokens = burst;
        this.lastRefillMillis = clock.millis();
    }

    boolean tryAcquire() {
        long now = clock.millis();
        if (now > lastRefillMillis) {
            tokens = Math.min(burst, tokens + (now - lastRefillMillis) * perMilli);
            lastRefillMillis = now;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
