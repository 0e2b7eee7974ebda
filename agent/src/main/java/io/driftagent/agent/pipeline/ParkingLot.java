package io.driftagent.agent.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Items waiting for a retry, due at offsets from the moment they were first parked ({@code retryOffsetsNanos},
 * ascending). Bounded; used by one thread, except {@link #size()} which any thread may read.
 */
final class ParkingLot<T> {

    private final long[] retryOffsetsNanos;
    private final int capacity;
    private final PriorityQueue<Parked<T>> byDueTime =
            new PriorityQueue<>((a, b) -> Long.compare(a.dueNanos, b.dueNanos));
    private final AtomicInteger size = new AtomicInteger();

    ParkingLot(long[] retryOffsetsNanos, int capacity) {
        for (int i = 0; i < retryOffsetsNanos.length; i++) {
            if (retryOffsetsNanos[i] <= 0 || (i > 0 && retryOffsetsNanos[i] <= retryOffsetsNanos[i - 1])) {
                throw new IllegalArgumentException("retry offsets must be positive and ascending");
            }
        }
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative");
        }
        this.retryOffsetsNanos = retryOffsetsNanos.clone();
        this.capacity = capacity;
    }

    /** Parks a newly missed item for its first retry; false when the lot is full or there is no retry at all. */
    boolean park(T item, long nowNanos) {
        if (retryOffsetsNanos.length == 0 || byDueTime.size() >= capacity) {
            return false;
        }
        byDueTime.add(new Parked<>(item, nowNanos, 0, nowNanos + retryOffsetsNanos[0]));
        size.incrementAndGet();
        return true;
    }

    /** Re-parks an item whose retry missed again; false when its schedule is exhausted. */
    boolean repark(Parked<T> parked) {
        int next = parked.attempt + 1;
        if (next >= retryOffsetsNanos.length) {
            return false;
        }
        byDueTime.add(new Parked<>(parked.item, parked.firstParkedNanos, next,
                parked.firstParkedNanos + retryOffsetsNanos[next]));
        size.incrementAndGet();
        return true;
    }

    long nanosUntilNextDue(long nowNanos) {
        Parked<T> head = byDueTime.peek();
        return head == null ? StageHandler.NO_TIMER : head.dueNanos - nowNanos;
    }

    /** Removes and returns the items due at {@code nowNanos}, earliest first. */
    List<Parked<T>> takeDue(long nowNanos) {
        List<Parked<T>> due = new ArrayList<>();
        while (!byDueTime.isEmpty() && byDueTime.peek().dueNanos <= nowNanos) {
            due.add(byDueTime.poll());
            size.decrementAndGet();
        }
        return due;
    }

    /** Removes and returns everything. */
    List<Parked<T>> takeAll() {
        List<Parked<T>> all = new ArrayList<>(byDueTime);
        byDueTime.clear();
        size.set(0);
        return all;
    }

    int size() {
        return size.get();
    }

    static final class Parked<T> {
        final T item;
        final long firstParkedNanos;
        final int attempt;
        final long dueNanos;

        Parked(T item, long firstParkedNanos, int attempt, long dueNanos) {
            this.item = item;
            this.firstParkedNanos = firstParkedNanos;
            this.attempt = attempt;
            this.dueNanos = dueNanos;
        }
    }
}
