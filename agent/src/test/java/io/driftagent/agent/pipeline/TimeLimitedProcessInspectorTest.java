package io.driftagent.agent.pipeline;

import static io.driftagent.agent.pipeline.PipelineFakes.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TimeLimitedProcessInspectorTest {

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final CountDownLatch unstick = new CountDownLatch(1);
    private final ProcessSnapshot answer = new ProcessSnapshot("/bin/sh", List.of("sh"), "/sbin/init");
    /** Reads of pid 666 hang like a read of a process whose mmap lock is held. */
    private final ProcessInspector sometimesStuck = event -> {
        if (event.tgid() == 666) {
            try {
                unstick.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return answer;
    };
    private final TimeLimitedProcessInspector inspector =
            new TimeLimitedProcessInspector(sometimesStuck, Duration.ofMillis(50), 2, registry);

    @AfterEach
    void release() {
        unstick.countDown();
        inspector.close();
    }

    @Test
    void aNormalReadPassesThrough() {
        assertThat(inspector.inspect(exec(1234, "x", 0))).isEqualTo(answer);
    }

    @Test
    void aStuckReadGivesUpAtTheDeadlineAndLaterReadsStillWork() {
        ProcessSnapshot stuck = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> inspector.inspect(exec(666, "x", 0)));

        assertThat(stuck).isEqualTo(ProcessSnapshot.UNKNOWN);
        assertThat(inspector.inspect(exec(1234, "x", 0))).isEqualTo(answer);
        assertThat(registry.get("drift.pipeline.proc_reads").tag("outcome", "timed_out").counter().count()).isEqualTo(1);
    }

    @Test
    void whenEveryReaderIsStuckReadsAreSkippedAtOnce() {
        inspector.inspect(exec(666, "x", 0));
        inspector.inspect(exec(666, "x", 0));

        ProcessSnapshot skipped = assertTimeoutPreemptively(Duration.ofMillis(500), () -> inspector.inspect(exec(1234, "x", 0)));

        assertThat(skipped).isEqualTo(ProcessSnapshot.UNKNOWN);
        assertThat(registry.get("drift.pipeline.proc_reads").tag("outcome", "skipped").counter().count()).isEqualTo(1);
    }
}
