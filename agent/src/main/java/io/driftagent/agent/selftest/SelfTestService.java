package io.driftagent.agent.selftest;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Runs the {@link SelfTest} in the background once the exec source is attached, then re-runs it periodically so a
 * detection that breaks later (a detached program, a full disk for the sandbox) shows on {@code /readyz}. A failed
 * run is tried again until one passes, after {@value #FIRST_RETRY_MS} ms, doubling up to {@value #MAX_RETRY_MS} ms:
 * on a busy node the source's reader can be seconds behind the canary (another job's exec storm), and the pod must
 * become Ready once it catches up, not at the next period. The runtime starts and stops it as the service
 * {@link #name()}.
 */
public final class SelfTestService implements AutoCloseable {

    static final long FIRST_RETRY_MS = 1000;
    static final long MAX_RETRY_MS = 30_000;
    /** How long stopping waits for a run in progress to clean up after the interrupt. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(15);

    private final SelfTest selfTest;
    private final BooleanSupplier sourceAttached;
    private final Duration period;
    private volatile Thread thread;

    public SelfTestService(SelfTest selfTest, BooleanSupplier sourceAttached, Duration period) {
        this.selfTest = selfTest;
        this.sourceAttached = sourceAttached;
        this.period = period;
    }

    public String name() {
        return "self-test";
    }

    public void start() {
        Thread t = new Thread(this::loop, "drift-self-test");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    private void loop() {
        try {
            while (!sourceAttached.getAsBoolean()) {
                Thread.sleep(100);
            }
            while (!Thread.currentThread().isInterrupted()) {
                long retry = FIRST_RETRY_MS;
                while (!selfTest.run().passed()) {
                    Thread.sleep(retry);
                    retry = Math.min(retry * 2, MAX_RETRY_MS);
                }
                Thread.sleep(period.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                // a run in progress removes its sandbox (an overlay mount) before the agent goes on stopping
                t.join(STOP_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
