package io.driftagent.agent.pipeline;

/** Where a stage hands an item on: the next stage's bounded queue, or a stage run on the same thread. Never blocks. */
interface StageInput<I> {

    /** False when the item was dropped (and counted by the receiving stage). */
    boolean offer(I item);
}
