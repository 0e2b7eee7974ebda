package io.driftagent.agent.pipeline;

import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Alert ids as UUID version 7 (RFC 9562): 48 bits of Unix milliseconds from the injected clock, then random bits,
 * so ids sort by creation time and stay unique across nodes.
 */
public final class TimeOrderedIds implements Supplier<String> {

    private final Clock clock;

    public TimeOrderedIds(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String get() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long millis = clock.millis() & 0xFFFF_FFFF_FFFFL;
        long high = (millis << 16) | 0x7000L | (random.nextInt() & 0x0FFFL);
        long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(high, low).toString();
    }
}
