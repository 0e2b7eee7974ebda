package io.driftagent.agent.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A named stage without a thread or queue of its own: it runs on the thread of the queued {@link Stage} that hosts
 * it, right after the item that fed it (so a hand-off costs no thread wake-up). It keeps what a stage is observed by:
 * its own latency timer (its handler's time only, not what runs after it) and error counter. A failing item is
 * dropped and counted, the host goes on.
 */
final class InlineStage<I> implements StageInput<I> {

    private static final Logger LOG = LoggerFactory.getLogger(InlineStage.class);

    private final String name;
    private Stage<?> host;
    private final StageHandler<I> handler;
    private final MonotonicClock clock;
    private final Timer latency;
    private final Counter errors;

    InlineStage(String name, StageHandler<I> handler, MonotonicClock clock, PipelineMetrics metrics) {
        this.name = name;
        this.handler = handler;
        this.clock = clock;
        this.latency = metrics.stageLatency(name);
        this.errors = metrics.stageErrors(name);
    }

    String name() {
        return name;
    }

    /** The queued stage whose thread runs this one; set once, by that stage's constructor. */
    Stage<?> host() {
        return host;
    }

    void hostOn(Stage<?> stage) {
        if (host != null) {
            throw new IllegalStateException("stage " + name + " is already hosted by " + host.name());
        }
        host = stage;
    }

    /** Runs the item on the host's thread once the current handler has returned (no nesting, so each time is its own). */
    @Override
    public boolean offer(I item) {
        host.runNext(() -> process(item));
        return true;
    }

    private void process(I item) {
        long start = clock.nanoTime();
        try {
            handler.handle(item);
        } catch (RuntimeException e) {
            errors.increment();
            LOG.warn("stage {} failed on an item; it is dropped", name, e);
        } finally {
            latency.record(clock.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }
}
