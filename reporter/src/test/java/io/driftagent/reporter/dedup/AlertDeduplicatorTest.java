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
    void anExecThatRanIsNeverFoldedIntoABlockedSummaryOfTheSameDrift() {
        // given a window of blocked execs of one dropped binary
        AlertDeduplicator dedup = new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry);
        Alert blocked = withType(SampleAlerts.of("c1", "/tmp/x", "ADDED"), Alert.AlertType.BinaryDriftBlocked, "block");
        dedup.accept(blocked, emitter);
        for (int i = 0; i < 5; i++) {
            dedup.accept(withType(SampleAlerts.of("c1", "/tmp/x", "ADDED"), Alert.AlertType.BinaryDriftBlocked, "block"),
                    emitter);
        }

        // when one exec of the same binary ran (the guard let it through) within that window, then another
        Alert ran = withType(SampleAlerts.of("c1", "/tmp/x", "ADDED"), Alert.AlertType.BinaryDrift, "block");
        dedup.accept(ran, emitter);
        dedup.accept(withType(SampleAlerts.of("c1", "/tmp/x", "ADDED"), Alert.AlertType.BinaryDrift, "block"), emitter);
        clock.advance(Duration.ofSeconds(60));
        dedup.flushDue(emitter);

        // then the one that ran is reported at once as BinaryDrift, and the summaries keep the two apart
        assertThat(out.get(0)).isEqualTo(new Emitted(blocked, 1));
        assertThat(out.get(1)).isEqualTo(new Emitted(ran, 1));
        assertThat(out).hasSize(4);
        int blockedTotal = out.stream().filter(e -> e.alert().alertType() == Alert.AlertType.BinaryDriftBlocked)
                .mapToInt(Emitted::count).sum();
        int ranTotal = out.stream().filter(e -> e.alert().alertType() == Alert.AlertType.BinaryDrift)
                .mapToInt(Emitted::count).sum();
        assertThat(blockedTotal).isEqualTo(6);
        assertThat(ranTotal).isEqualTo(2);
    }

    private static Alert withType(Alert a, Alert.AlertType type, String action) {
        return new Alert(a.schemaVersion(), a.id(), a.time(), type, a.severity(), action, a.drift(), a.process(),
                a.container(), a.pod(), a.node(), a.cluster(), a.cloud(), a.rule());
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
