package io.driftagent.agent.assembly;

import io.driftagent.agent.http.ReadinessCheck;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the components in order (HTTP, services, pipeline, source) and stops them in the reverse order with a
 * clean drain: the source first, so nothing new arrives; then the pipeline finishes its queues within the shutdown
 * timeout; then the services (the reporter flushes and closes its sinks); HTTP last.
 */
public final class AgentRuntime {

    static final String SOURCE_CHECK = "source";
    static final String PIPELINE_CHECK = "pipeline";
    private static final Logger LOG = LoggerFactory.getLogger(AgentRuntime.class);

    private final AgentComponents components;
    private final Duration shutdownTimeout;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile String sourceState = "not attached yet";
    private boolean running;

    public AgentRuntime(AgentComponents components, Duration shutdownTimeout) {
        this.components = components;
        this.shutdownTimeout = shutdownTimeout;
        components.readiness().register(SOURCE_CHECK, () -> sourceState == null
                ? ReadinessCheck.Result.passing() : ReadinessCheck.Result.failing(sourceState));
        components.readiness().register(PIPELINE_CHECK, () -> {
            List<String> stopped = components.pipeline().stoppedStages();
            return stopped.isEmpty() ? ReadinessCheck.Result.passing()
                    : ReadinessCheck.Result.failing("stages not running: " + String.join(", ", stopped));
        });
    }

    /** Starts everything; on failure stops what was started and rethrows. */
    public synchronized void start() throws Exception {
        if (running || stopped.getCount() == 0) {
            throw new IllegalStateException("the runtime starts once");
        }
        running = true;
        try {
            components.http().start();
            started.push(components.http());
            for (ManagedService service : components.services()) {
                LOG.debug("starting {}", service.name());
                service.start();
                started.push(service);
            }
            components.pipeline().start();
            started.push(() -> components.pipeline().drainAndStop(shutdownTimeout));
            components.source().start(components.pipeline().sink());
            started.push(components.source());
            sourceState = null;
            LOG.info("drift-agent running: source {} attached", components.source().kind());
        } catch (Exception e) {
            sourceState = "start-up failed: " + e.getMessage();
            LOG.error("start-up failed: {}", e.getMessage());
            stop();
            throw e;
        }
    }

    /** Stops everything started, in reverse order. Idempotent; safe from a shutdown hook. */
    public synchronized void stop() {
        if (stopped.getCount() == 0) {
            return;
        }
        if (sourceState == null) {
            sourceState = "shutting down";
        }
        long began = System.nanoTime();
        while (!started.isEmpty()) {
            AutoCloseable next = started.pop();
            try {
                next.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.warn("interrupted while stopping");
            } catch (Exception e) {
                LOG.warn("stopping a component failed: {}", e.toString());
            }
        }
        running = false;
        stopped.countDown();
        LOG.info("drift-agent stopped in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
    }

    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    public boolean isStopped() {
        return stopped.getCount() == 0;
    }
}
