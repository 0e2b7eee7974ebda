package io.driftagent.agent.pipeline;


/**
 * A named stage without a thread or queue of its own: it runs on the thread of the queued {@link Stage} that hosts
 * it, right after the item that fed it (so a hand-off costs no thread wake-up). It keeps what a stage is observed by:
 * its own latency timer (its handler's time only, not what runs after it) and error counter. A failing item is
 * dropped and counted, the host goes on.
 */
final class InlineStage<I> implements StageInput<I> {

    private final String name;
    private Stage<?> host;
    private final MeteredHandler<I> handler;

    InlineStage(String name, StageHandler<I> handler, MonotonicClock clock, PipelineMetrics metrics) {
        this.name = name;
        this.handler = new MeteredHandler<>(name, handler, clock, metrics);
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
        host.runNext(() -> handler.handle(item));
        return true;
    }
}
