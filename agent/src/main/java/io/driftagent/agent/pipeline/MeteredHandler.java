package io.driftagent.agent.pipeline;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage's handler with what the stage is observed by, whichever thread runs it ({@link Stage} or
 * {@link InlineStage}): its latency timer (the handler's own time) and its error counter. A failing item or timer is
 * counted and logged, never thrown: the stage goes on with the next item.
 */
final class MeteredHandler<I> {

    private static final Logger LOG = LoggerFactory.getLogger(MeteredHandler.class);

    private final String name;
    private final StageHandler<I> handler;
    private final MonotonicClock clock;
    private final PipelineMetrics.StageTimer latency;
    private final FirstUseCounter errors;

    MeteredHandler(String name, StageHandler<I> handler, MonotonicClock clock, PipelineMetrics metrics) {
        this.name = name;
        this.handler = handler;
        this.clock = clock;
        this.latency = metrics.stageLatency(name);
        this.errors = metrics.stageErrors(name);
    }

    void handle(I item) {
        long start = clock.nanoTime();
        try {
            handler.handle(item);
        } catch (RuntimeException e) {
            errors.increment();
            LOG.warn("stage {} failed on an item; it is dropped", name, e);
        } finally {
            latency.record(clock.nanoTime() - start);
        }
    }

    void onTimer() {
        try {
            handler.onTimer(clock.nanoTime());
        } catch (RuntimeException e) {
            errors.increment();
            LOG.warn("stage {} timer failed", name, e);
        }
    }
}
