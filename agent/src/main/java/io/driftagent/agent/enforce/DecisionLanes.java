package io.driftagent.agent.enforce;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs tasks in lanes on a bounded pool: tasks of one lane (one container) run one at a time in submission order,
 * different lanes run in parallel, and a lane that has run a task goes to the back of the line before its next one.
 * So a lane can only queue behind itself: however slow its tasks are, it holds at most one thread, and every other
 * lane gets a turn after at most one task of each lane ahead of it. A lane holds at most {@code laneCapacity} tasks,
 * and at most {@code maxLanes} lanes exist at once; {@link #submit} refuses beyond that (the caller answers at once).
 */
final class DecisionLanes implements AutoCloseable {

    private final ExecutorService pool;
    private final int laneCapacity;
    private final int maxLanes;
    /** Guarded by itself. A lane is here while it has tasks queued or running. */
    private final Map<Object, Lane> lanes = new HashMap<>();

    private final class Lane implements Runnable {
        private final Object key;
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        Lane(Object key) {
            this.key = key;
        }

        /** Runs the lane's next task, then puts the lane back in line (or drops it when it is empty). */
        @Override
        public void run() {
            Runnable task;
            synchronized (lanes) {
                task = tasks.peekFirst();
            }
            try {
                task.run();
            } finally {
                boolean more;
                synchronized (lanes) {
                    tasks.pollFirst();
                    more = !tasks.isEmpty();
                    if (!more) {
                        lanes.remove(key);
                    }
                }
                if (more) {
                    schedule(this);
                }
            }
        }
    }

    DecisionLanes(int threads, int laneCapacity, int maxLanes, String threadName) {
        if (threads < 1 || laneCapacity < 1 || maxLanes < 1) {
            throw new IllegalArgumentException("threads, laneCapacity and maxLanes must be positive");
        }
        this.laneCapacity = laneCapacity;
        this.maxLanes = maxLanes;
        AtomicInteger n = new AtomicInteger();
        // the pool's own queue holds lanes waiting for a thread: at most one entry per lane, so at most maxLanes
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, threadName + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Queues {@code task} in lane {@code key}.
     *
     * @return false when the lane is full, too many lanes exist, or the lanes are closed: the task will not run
     */
    boolean submit(Object key, Runnable task) {
        Objects.requireNonNull(task, "task");
        Lane toSchedule = null;
        synchronized (lanes) {
            Lane lane = lanes.get(key);
            if (lane == null) {
                if (lanes.size() >= maxLanes || pool.isShutdown()) {
                    return false;
                }
                lane = new Lane(key);
                lanes.put(key, lane);
            }
            if (lane.tasks.size() >= laneCapacity) {
                return false;
            }
            lane.tasks.addLast(task);
            if (lane.tasks.size() == 1) {
                toSchedule = lane;
            }
        }
        if (toSchedule != null) {
            return schedule(toSchedule);
        }
        return true;
    }

    private boolean schedule(Lane lane) {
        try {
            pool.execute(lane);
            return true;
        } catch (RejectedExecutionException closed) {
            synchronized (lanes) {
                lanes.remove(lane.key);
                lane.tasks.clear();
            }
            return false;
        }
    }

    /** Tasks queued or running in lane {@code key}. */
    int depth(Object key) {
        synchronized (lanes) {
            Lane lane = lanes.get(key);
            return lane == null ? 0 : lane.tasks.size();
        }
    }

    /** Lanes with tasks queued or running. */
    int lanes() {
        synchronized (lanes) {
            return lanes.size();
        }
    }

    /** Stops taking tasks, drops the queued ones, interrupts the running ones and waits up to {@code waitMs} for them. */
    void close(long waitMs) {
        pool.shutdownNow();
        synchronized (lanes) {
            lanes.values().forEach(l -> {
                // the running task (first) stays until it returns; the rest never run
                Runnable running = l.tasks.peekFirst();
                l.tasks.clear();
                if (running != null) {
                    l.tasks.add(running);
                }
            });
        }
        try {
            pool.awaitTermination(waitMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(5000);
    }
}
