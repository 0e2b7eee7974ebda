package io.driftagent.agent.pipeline;

/**
 * The work of one stage, run on that stage's thread only (so it needs no locking). Emits downstream through
 * whatever it was constructed with.
 */
interface StageHandler<I> {

    long NO_TIMER = Long.MAX_VALUE;

    void handle(I item);

    /** Nanoseconds until {@link #onTimer} wants to run, or {@link #NO_TIMER}. */
    default long nanosUntilTimer(long nowNanos) {
        return NO_TIMER;
    }

    /** Called after every wake-up of the stage thread, with or without an item. */
    default void onTimer(long nowNanos) {
    }

    /** The stage is draining for shutdown and its queue is empty: emit whatever is still held. */
    default void flush() {
    }
}
