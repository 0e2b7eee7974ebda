package io.driftagent.agent.source.ebpf;

import java.io.IOException;
import java.lang.invoke.VarHandle;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reader thread's cadence: when it sleeps, when it drains, and what it tells the exec program so that the program
 * wakes it only when a record cannot wait. A wakeup (timer or interrupt, two context switches) costs more CPU on a VM
 * than decoding a dozen records (docs/benchmarks.md, "Where the cost is"), so the loop trades wakeups for latency where latency does not matter:
 * <ul>
 *   <li>{@link Mode#SLEEPING}: execs are rare; every record rings the doorbell and is handed on at once.</li>
 *   <li>{@link Mode#LAZY}: image-layer execs (never drift by themselves) keep coming, a storm or a steady trickle;
 *   the reader drains every {@link #LAZY_TICK_MS} and only a record that may be drift rings the doorbell, and is
 *   handed on at once.</li>
 *   <li>{@link Mode#POLLING}: records that may be drift keep coming; the reader drains every {@link #GATHER_MS} and
 *   nothing rings (a doorbell per drift record would be a wakeup per exec).</li>
 * </ul>
 * Each change of mode is written to the program's state map, then the ring is drained once more: a record committed
 * before the program saw the new state is handed on by that drain (see the barrier note in {@code exec.bpf.c}).
 */
final class ExecReaderLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ExecReaderLoop.class);

    /** The short clock: what a record that may be drift waits at most during a storm of them. */
    static final int GATHER_MS = 2;
    /**
     * The long clock: what an image-layer exec waits at most during a storm of them (the program rings earlier when
     * a quarter of the ring fills). Nothing waits for an image-layer exec (it is never drift by itself), while a
     * wakeup costs this VM 40-85 µs of CPU: at 20 ms they were a quarter of the reading thread's cost per exec.
     */
    static final int LAZY_TICK_MS = 100;
    /** Records that may be drift, gathered in {@link #GATHER_MS} after a wakeup, that mean a storm of them. */
    static final int STORM_BATCH = 4;
    /** Empty drains before going back to sleep: 10 ms on the short clock, 200 ms on the long one. */
    private static final int IDLE_GATHERS_BEFORE_SLEEP = 5;
    private static final int IDLE_TICKS_BEFORE_SLEEP = 2;

    enum Mode {
        SLEEPING(ExecRecordLayout.READER_SLEEPING),
        POLLING(ExecRecordLayout.READER_POLLING),
        LAZY(ExecRecordLayout.READER_LAZY);

        final int programState;

        Mode(int programState) {
            this.programState = programState;
        }
    }

    private final ExecRingReader reader;
    private final ReaderWait wait;
    private final IntPredicate programState;
    private final int backstopMs;
    private final Runnable eachWakeup;
    private volatile boolean running = true;
    private volatile Mode mode = Mode.SLEEPING;
    private volatile long wakeups;
    private int idle;

    /**
     * @param programState writes the program's reader_state map; false if it could not (the loop then stays in the
     *                     mode the program believes in)
     * @param backstopMs   the longest sleep without a doorbell: a back-stop for a missed ring
     * @param eachWakeup   run after each step's drains (cheap: it runs up to 500 times a second)
     */
    ExecReaderLoop(ExecRingReader reader, ReaderWait wait, IntPredicate programState, int backstopMs,
                   Runnable eachWakeup) {
        this.reader = reader;
        this.wait = wait;
        this.programState = programState;
        this.backstopMs = backstopMs;
        this.eachWakeup = eachWakeup;
    }

    @Override
    public void run() {
        try {
            while (running) {
                switch (mode) {
                    case SLEEPING -> sleeping();
                    case LAZY -> lazy();
                    case POLLING -> polling();
                }
                eachWakeup.run();
                wakeups++;
            }
        } catch (IOException e) {
            LOG.error("{}; the exec reader stops", e.getMessage());
        }
        // the link is already destroyed when running is cleared: hand on what the kernel wrote before detaching
        drain();
    }

    private void sleeping() throws IOException {
        wait.awaitDoorbell(backstopMs);
        long prompt = reader.promptRecords();
        if (drain() == 0 || !running) {
            return;
        }
        // let the next records gather: what follows within the gather sets how to wait from now on
        wait.sleep(GATHER_MS);
        int gathered = drain();
        if (reader.promptRecords() == prompt) {
            if (gathered > 0) {
                // image-layer execs keep coming (at any rate): none of them needs a wakeup of its own
                enter(Mode.LAZY);
            }
        } else if (gathered >= STORM_BATCH) {
            enter(Mode.POLLING);
        }
    }

    private void lazy() throws IOException {
        wait.awaitDoorbell(LAZY_TICK_MS);
        long prompt = reader.promptRecords();
        int drained = drain();
        if (reader.promptRecords() > prompt) {
            // handed on at once; more may follow: gather them on the short clock instead of a doorbell each
            enter(Mode.POLLING);
        } else if (drained > 0) {
            idle = 0;
        } else if (++idle >= IDLE_TICKS_BEFORE_SLEEP) {
            enter(Mode.SLEEPING);
        }
    }

    private void polling() throws IOException {
        wait.sleep(GATHER_MS);
        long prompt = reader.promptRecords();
        int drained = drain();
        if (drained == 0) {
            if (++idle >= IDLE_GATHERS_BEFORE_SLEEP) {
                enter(Mode.SLEEPING);
            }
        } else if (reader.promptRecords() == prompt) {
            enter(Mode.LAZY);
        } else {
            idle = 0;
        }
    }

    private void enter(Mode next) {
        idle = 0;
        if (!programState.test(next.programState)) {
            LOG.debug("could not tell the exec program the reader is {}; staying {}", next, mode);
            return;
        }
        mode = next;
        // the map write, then the drain's reads of the ring: the program reads the state after its commit's barrier
        VarHandle.fullFence();
        drain();
    }

    private int drain() {
        wait.clearDoorbell();
        return reader.consume();
    }

    /** Ends {@link #run()} after its current step (the caller wakes the wait). */
    void stop() {
        running = false;
    }

    Mode mode() {
        return mode;
    }

    /** Loop steps so far, each one sleep and its drains: the reader's wakeups. */
    long wakeups() {
        return wakeups;
    }
}
