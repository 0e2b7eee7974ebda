package io.driftagent.agent.selftest;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Runs the {@link SelfTest} in the background once the exec source is attached, retrying a failed run a few times
 * (the first execs after attaching can race the pipeline's start), then re-running it periodically so a detection
 * that breaks later (a detached program, a full disk for the sandbox) shows on {@code /readyz}. The runtime starts and
 * stops it as the service {@link #name()}.
 */
public final class SelfTestService implements AutoCloseable {

    private static final int ATTEMPTS = 3;
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
                for (int attempt = 1; attempt <= ATTEMPTS && !selfTest.run().passed(); attempt++) {
                    Thread.sleep(1000L * attempt);
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
