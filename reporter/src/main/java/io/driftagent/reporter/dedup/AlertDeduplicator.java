package io.driftagent.reporter.dedup;

import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Folds repeats of the same drift, keyed by (container id, path, kind, alert type), into one alert line per window.
 *
 * <ul>
 *   <li>The first occurrence of a key is emitted at once (count 1) and opens a window of {@code window} length.</li>
 *   <li>Repeats inside the window are only counted.</li>
 *   <li>When the window closes, and it had repeats, one summary is emitted: the LAST repeat's alert with
 *       {@code count} = the number of repeats. Window close is noticed by {@link #flushDue} (the dispatcher calls it
 *       on every tick) or, at the latest, by the next occurrence of that key, which then emits the summary and
 *       itself (opening a new window).</li>
 * </ul>
 * So the counts of all lines for a key add up to the number of occurrences. Memory is bounded by {@code maxKeys}: the
 * key with the oldest window is evicted first (its pending summary emitted, the eviction counted).
 *
 * <p>Thread-safe (synchronized); alerts are rare compared to execs, so contention is not a concern.
 */
public final class AlertDeduplicator {

    /** Receives what the deduplicator lets through. */
    @FunctionalInterface
    public interface Emitter {
        void emit(Alert alert, int count);
    }

    /**
     * The outcome (alert type: denied or not) is part of the key: an exec that ran is never folded into a summary of
     * blocked ones, nor a blocked one into a summary of execs that ran.
     */
    private record Key(String containerId, String path, String kind, Alert.AlertType outcome) {
        static Key of(Alert alert) {
            String container = alert.container() == null || alert.container().id() == null ? "" : alert.container().id();
            return new Key(container, alert.drift().path(), alert.drift().kind(), alert.alertType());
        }
    }

    private static final class Window {
        final long endsAtMillis;
        int repeats;
        Alert latest;

        Window(long endsAtMillis) {
            this.endsAtMillis = endsAtMillis;
        }
    }

    private final long windowMillis;
    private final int maxKeys;
    private final Clock clock;
    // insertion order == window start order == window end order (all windows have the same length)
    private final LinkedHashMap<Key, Window> windows = new LinkedHashMap<>();
    private final Counter suppressed;
    private final Counter evictions;
    private final Counter summaries;

    public AlertDeduplicator(Duration window, int maxKeys, Clock clock, MeterRegistry registry) {
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be >= 1: " + maxKeys);
        }
        this.windowMillis = window.toMillis();
        this.maxKeys = maxKeys;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.suppressed = Counter.builder("drift.dedup.suppressed")
                .description("Repeated alerts folded into a summary").register(registry);
        this.evictions = Counter.builder("drift.dedup.evictions")
                .description("Deduplication keys evicted to bound memory").register(registry);
        this.summaries = Counter.builder("drift.dedup.summaries")
                .description("Summary alerts emitted with a count").register(registry);
        Gauge.builder("drift.dedup.keys", this, AlertDeduplicator::size)
                .description("Deduplication keys held").register(registry);
    }

    /** Offers one occurrence; emits it now if it is the first of its key in the window. */
    public synchronized void accept(Alert alert, Emitter out) {
        long now = clock.millis();
        Key key = Key.of(alert);
        Window window = windows.get(key);
        if (window != null && now >= window.endsAtMillis) {
            windows.remove(key);
            emitSummary(window, out);
            window = null;
        }
        if (window == null) {
            windows.put(key, new Window(now + windowMillis));
            out.emit(alert, 1);
            evictOverflow(out);
            return;
        }
        window.repeats++;
        window.latest = alert;
        suppressed.increment();
    }

    /** Emits the summaries of all windows that have closed by now. */
    public synchronized void flushDue(Emitter out) {
        long now = clock.millis();
        Iterator<Window> it = windows.values().iterator();
        while (it.hasNext()) {
            Window window = it.next();
            if (now < window.endsAtMillis) {
                return;
            }
            it.remove();
            emitSummary(window, out);
        }
    }

    /** Emits every pending summary now (at shutdown) and forgets all keys. */
    public synchronized void flushAll(Emitter out) {
        for (Window window : windows.values()) {
            emitSummary(window, out);
        }
        windows.clear();
    }

    public synchronized int size() {
        return windows.size();
    }

    private void evictOverflow(Emitter out) {
        Iterator<Map.Entry<Key, Window>> it = windows.entrySet().iterator();
        while (windows.size() > maxKeys && it.hasNext()) {
            Window eldest = it.next().getValue();
            it.remove();
            evictions.increment();
            emitSummary(eldest, out);
        }
    }

    private void emitSummary(Window window, Emitter out) {
        if (window.repeats > 0) {
            summaries.increment();
            out.emit(window.latest, window.repeats);
        }
    }
}
