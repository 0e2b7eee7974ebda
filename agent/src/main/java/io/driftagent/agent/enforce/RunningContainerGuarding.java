package io.driftagent.agent.enforce;

import io.driftagent.policy.eval.CompiledPolicy;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards the running containers a block rule scopes without waiting for their execs: once at start, again after
 * every policy change, and again after a try that left a container unguarded. A container started before the agent
 * whose only execs are short-lived would otherwise be decided at execs that are gone before they can be guarded
 * through, and its drift would run.
 */
public final class RunningContainerGuarding implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RunningContainerGuarding.class);

    private final BlockScopeGuardian guardian;
    private final Supplier<CompiledPolicy> policy;
    private final Duration tick;
    private ScheduledExecutorService ticker;
    private CompiledPolicy scannedUnder;
    private int unguarded;
    /** Ticks to wait before retrying failures: doubles while they persist (a container that can never be guarded
     * must not make the agent scan every second), back to one after a success or a policy change. */
    private int retryEvery = 1;
    private int ticksSinceScan;
    private static final int MAX_RETRY_TICKS = 64;

    /** @param tick how often the policy in force is compared with the one of the last scan (and failures retried) */
    public RunningContainerGuarding(BlockScopeGuardian guardian, Supplier<CompiledPolicy> policy, Duration tick) {
        this.guardian = guardian;
        this.policy = policy;
        this.tick = tick;
    }

    /** Scans once now (on the caller's thread), then watches for policy changes and retries failures. */
    public synchronized void start() {
        scan();
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "drift-block-scope");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleWithFixedDelay(this::tick, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            synchronized (this) {
                ticksSinceScan++;
                if (policy.get() != scannedUnder) {
                    retryEvery = 1;
                    scan();
                } else if (unguarded > 0 && ticksSinceScan >= retryEvery) {
                    retryEvery = Math.min(MAX_RETRY_TICKS, retryEvery * 2);
                    scan();
                }
            }
        } catch (RuntimeException e) {
            log.warn("guarding the running containers failed: {}", e.toString());
        }
    }

    private void scan() {
        scannedUnder = policy.get();
        ticksSinceScan = 0;
        int before = unguarded;
        unguarded = guardian.guardRunning();
        if (unguarded > 0) {
            log.warn("{} running container(s) under a block rule could not be guarded; trying again in {} ms",
                    unguarded, tick.toMillis() * retryEvery);
        } else if (before > 0) {
            retryEvery = 1;
            log.info("every running container under a block rule is guarded now");
        }
    }

    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
        }
    }
}
