package io.driftagent.reporter.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlertDeduplicatorTest {

    private record Emitted(Alert alert, int count) {
    }

    private final MutableClock clock = new MutableClock(SampleAlerts.TIME);
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<Emitted> out = new ArrayList<>();
    private final AlertDeduplicator.Emitter emitter = (alert, count) -> out.add(new Emitted(alert, count));

    @Test
    void firstOccurrenceIsEmittedAtOnceAndRepeatsInTheWindowAreOnlyCounted() {
        // given
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry);

        // when
        Alert first = SampleAlerts.of("c1", "/tmp/x", "ADDED");
        dedup.accept(first, emitter);
        clock.advance(Duration.ofSeconds(10));
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.flushDue(emitter);

        // then
        assertThat(out).containsExactly(new Emitted(first, 1));
        assertThat(registry.get("drift.dedup.suppressed").counter().count()).isEqualTo(2);
    }

    @Test
    void windowCloseEmitsOneSummaryWithTheNumberOfRepeatsCarryingTheLastRepeat() {
        // given
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        Alert last = SampleAlerts.of("c1", "/tmp/x", "ADDED");
        dedup.accept(last, emitter);

        // when the window has not closed yet, then closes
        clock.advance(Duration.ofSeconds(59));
        dedup.flushDue(emitter);
        assertThat(out).hasSize(1);
        clock.advance(Duration.ofSeconds(1));
        dedup.flushDue(emitter);

        // then
        assertThat(out).hasSize(2);
        assertThat(out.get(1)).isEqualTo(new Emitted(last, 2));
        assertThat(dedup.size()).isZero();
    }

    @Test
    void nextOccurrenceAfterTheWindowEmitsThePendingSummaryAndItselfWithoutAFlush() {
        // given
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);

        // when
        clock.advance(Duration.ofSeconds(61));
        Alert later = SampleAlerts.of("c1", "/tmp/x", "ADDED");
        dedup.accept(later, emitter);

        // then
        assertThat(out).extracting(Emitted::count).containsExactly(1, 1, 1);
        assertThat(out.get(2).alert()).isSameAs(later);
        assertThat(registry.get("drift.dedup.summaries").counter().count()).isEqualTo(1);
    }

    @Test
    void differentContainerPathOrKindAreDifferentAlerts() {
        // given
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry);

        // when
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c2", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/y", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "MODIFIED"), emitter);

        // then
        assertThat(out).hasSize(4).allSatisfy(e -> assertThat(e.count()).isEqualTo(1));
    }

    @Test
    void memoryIsBoundedEvictingTheOldestKeyAndEmittingItsPendingSummary() {
        // given a cap of 2 keys, the oldest with 3 pending repeats
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 2, clock, registry);
        for (int i = 0; i < 4; i++) {
            dedup.accept(SampleAlerts.of("c1", "/tmp/old", "ADDED"), emitter);
        }
        dedup.accept(SampleAlerts.of("c1", "/tmp/b", "ADDED"), emitter);

        // when a third key arrives
        dedup.accept(SampleAlerts.of("c1", "/tmp/c", "ADDED"), emitter);

        // then
        assertThat(dedup.size()).isEqualTo(2);
        assertThat(registry.get("drift.dedup.evictions").counter().count()).isEqualTo(1);
        assertThat(out).extracting(e -> e.alert().drift().path() + "x" + e.count())
                .containsExactly("/tmp/oldx1", "/tmp/bx1", "/tmp/cx1", "/tmp/oldx3");
    }

    @Test
    void flushAllEmitsEveryPendingSummaryAtShutdown() {
        // given
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/x", "ADDED"), emitter);
        dedup.accept(SampleAlerts.of("c1", "/tmp/y", "ADDED"), emitter);

        // when
        dedup.flushAll(emitter);

        // then: /tmp/y had no repeats, so no summary
        assertThat(out).extracting(Emitted::count).containsExactly(1, 1, 1);
        assertThat(out.get(2).alert().drift().path()).isEqualTo("/tmp/x");
        assertThat(dedup.size()).isZero();
    }
}
