package io.driftagent.reporter.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.dedup.AlertDeduplicator;
import io.driftagent.reporter.dedup.MutableClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AlertDispatcherTest {

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void releaseHungSinks() {
        release.countDown();
    }

    /** Blocks every call until the test ends, ignoring interrupts: the worst kind of sink. */
    private AlertSink hungSink(String name, AtomicInteger calls) {
        return new AlertSink() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void publish(Alert alert) {
                calls.incrementAndGet();
                boolean released = false;
                while (!released) {
                    try {
                        released = release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException ignored) {
                        // keeps hanging
                    }
                }
            }
        };
    }

    @Test
    void fullQueueDropsAndCountsWithoutBlockingTheCaller() {
        // given a dispatcher whose only sink hangs, so nothing drains past its small lane
        AtomicInteger calls = new AtomicInteger();
        AlertDispatcher dispatcher = new AlertDispatcher(List.of(hungSink("hung", calls)), 4, Duration.ofSeconds(30),
                registry, Clock.systemUTC());

        // when far more alerts arrive than fit
        long start = System.nanoTime();
        int accepted = 0;
        for (int i = 0; i < 10_000; i++) {
            if (dispatcher.submit(SampleAlerts.full())) {
                accepted++;
            }
        }
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        // then submit never blocked, and every alert is accounted for
        assertThat(elapsedMillis).isLessThan(1_000);
        double droppedAtQueue = registry.get("drift.alerts.dropped").tag("reason", "queue_full").counter().count();
        assertThat(droppedAtQueue).isGreaterThan(0).isEqualTo(10_000 - accepted);
        release.countDown();
        dispatcher.close(Duration.ofSeconds(5));
    }

    @Test
    void failingSinkIsCountedAndDoesNotStopTheOthers() throws Exception {
        // given
        AlertSink failing = new AlertSink() {
            @Override
            public String name() {
                return "failing";
            }

            @Override
            public void publish(Alert alert) {
                throw new IllegalStateException("boom");
            }
        };
        RecordingSink recording = new RecordingSink("recording");
        AlertDispatcher dispatcher = new AlertDispatcher(List.of(failing, recording), 64, Duration.ofSeconds(1),
                registry, Clock.systemUTC());

        // when
        for (int i = 0; i < 10; i++) {
            dispatcher.submit(SampleAlerts.full());
        }
        dispatcher.close(Duration.ofSeconds(5));

        // then
        assertThat(recording.received()).hasSize(10);
        assertThat(outcome("failing", "failed")).isEqualTo(10);
        assertThat(outcome("recording", "published")).isEqualTo(10);
    }

    @Test
    void hangingSinkIsTimedOutItsBacklogBoundedAndTheOtherSinkStaysFast() throws Exception {
        // given a sink that hangs forever next to a recording one
        AtomicInteger hungCalls = new AtomicInteger();
        RecordingSink fast = new RecordingSink("fast");
        AlertDispatcher dispatcher = AlertDispatcher.builder()
                .sinks(List.of(hungSink("hung", hungCalls), fast)).capacity(64).laneCapacity(8)
                .sinkTimeout(Duration.ofMillis(100)).registry(registry).clock(Clock.systemUTC()).build();

        // when alerts keep coming, paced like a busy node
        List<Long> lagsMicros = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            long submitted = System.nanoTime();
            dispatcher.submit(SampleAlerts.full());
            assertThat(fast.awaitCount(i + 1, 2_000)).isTrue();
            lagsMicros.add(TimeUnit.NANOSECONDS.toMicros(fast.received().get(i).atNanos() - submitted));
            Thread.sleep(5);
        }
        lagsMicros.sort(null);

        // then the fast sink got each alert promptly, the hung one timed out once and its backlog was bounded
        // a fan-out coupled to the hung sink would never deliver (or, at best, every alert after the 100 ms timeout);
        // the bounds leave room for a loaded CI box
        assertThat(lagsMicros.get(25)).as("median lag (us), all: %s", lagsMicros).isLessThan(5_000);
        assertThat(lagsMicros.get(49)).as("worst lag (us), all: %s", lagsMicros).isLessThan(1_000_000);
        assertThat(hungCalls.get()).isEqualTo(1);
        assertThat(outcome("hung", "timed_out")).isEqualTo(1);
        assertThat(registry.get("drift.sink.queue.depth").tag("sink", "hung").gauge().value()).isEqualTo(8);
        assertThat(registry.get("drift.sink.dropped").tag("sink", "hung").tag("reason", "queue_full").counter().count())
                .isEqualTo(50 - 1 - 8);

        // and close gives up on the hung sink at its deadline, counting what it never got
        long closeStart = System.nanoTime();
        dispatcher.close(Duration.ofMillis(300));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closeStart)).isLessThan(2_000);
        assertThat(registry.get("drift.sink.dropped").tag("sink", "hung").tag("reason", "shutdown").counter().count())
                .isEqualTo(8);
    }

    @Test
    void sinkThatHangsOnceIsInterruptedAtItsTimeoutAndThenCarriesOn() throws Exception {
        // given a sink whose first call blocks (interruptibly) far beyond the timeout
        AtomicInteger calls = new AtomicInteger();
        RecordingSink delivered = new RecordingSink("inner");
        AlertSink hangsOnce = new AlertSink() {
            @Override
            public String name() {
                return "hangs-once";
            }

            @Override
            public void publish(Alert alert) throws InterruptedException {
                if (calls.getAndIncrement() == 0) {
                    Thread.sleep(60_000);
                }
                delivered.publish(alert);
            }
        };
        AlertDispatcher dispatcher = new AlertDispatcher(List.of(hangsOnce), 16, Duration.ofMillis(200), registry,
                Clock.systemUTC());

        // when
        long start = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            dispatcher.submit(SampleAlerts.full());
        }

        // then the first call is cut at about the timeout, the next two go through
        assertThat(delivered.awaitCount(2, 5_000)).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(150L, 3_000L);
        dispatcher.close(Duration.ofSeconds(5));
        assertThat(outcome("hangs-once", "timed_out")).isEqualTo(1);
        assertThat(outcome("hangs-once", "published")).isEqualTo(2);
        assertThat(outcome("hangs-once", "failed")).isZero();
    }

    @Test
    void closeDeliversEverythingQueuedToSlowSinks() {
        // given a slow sink and a burst
        AtomicInteger published = new AtomicInteger();
        AlertSink slow = new AlertSink() {
            @Override
            public String name() {
                return "slow";
            }

            @Override
            public void publish(Alert alert) throws InterruptedException {
                Thread.sleep(5);
                published.incrementAndGet();
            }
        };
        AlertDispatcher dispatcher = new AlertDispatcher(List.of(slow), 100, Duration.ofSeconds(1), registry,
                Clock.systemUTC());
        for (int i = 0; i < 40; i++) {
            dispatcher.submit(SampleAlerts.full());
        }

        // when
        dispatcher.close(Duration.ofSeconds(10));

        // then
        assertThat(published.get()).isEqualTo(40);
        assertThat(dispatcher.submit(SampleAlerts.full())).isFalse();
        assertThat(registry.get("drift.alerts.dropped").tag("reason", "closed").counter().count()).isEqualTo(1);
    }

    @Test
    void deduplicatorFoldsRepeatsAndTheWorkerEmitsTheSummaryWhenTheWindowCloses() throws Exception {
        // given
        MutableClock clock = new MutableClock(SampleAlerts.TIME);
        RecordingSink sink = new RecordingSink("recording");
        AlertDispatcher dispatcher = AlertDispatcher.builder().sinks(List.of(sink)).capacity(64)
                .sinkTimeout(Duration.ofSeconds(1)).registry(registry).clock(Clock.systemUTC())
                .deduplicator(new AlertDeduplicator(Duration.ofSeconds(60), 100, clock, registry)).build();

        // when the same drift repeats 5 times within the window
        for (int i = 0; i < 5; i++) {
            dispatcher.submit(SampleAlerts.of("c1", "/tmp/miner", "ADDED"));
        }
        assertThat(sink.awaitCount(1, 2_000)).isTrue();
        Thread.sleep(100);
        assertThat(sink.received()).hasSize(1);
        clock.advance(Duration.ofSeconds(61));

        // then the worker's tick emits one summary for the 4 repeats
        assertThat(sink.awaitCount(2, 2_000)).isTrue();
        assertThat(sink.received()).extracting(RecordingSink.Received::count).containsExactly(1, 4);
        dispatcher.close(Duration.ofSeconds(5));
    }

    private double outcome(String sink, String outcome) {
        return registry.get("drift.sink.alerts").tag("sink", sink).tag("outcome", outcome).counter().count();
    }
}
