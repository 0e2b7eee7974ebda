package io.driftagent.agent.policysource;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this agent's reports into DriftPolicy resources' {@code status} subresource, on its own thread (the informer's
 * thread never waits for the API server). Every write is a read-modify-write with the resource version read
 * (optimistic locking): when another agent wrote in between, the server answers 409 Conflict and the write is redone
 * on the new version, after a jittered pause, up to {@code maxAttempts} times; no agent's entry is ever lost to
 * another's. Reports for the same resource coalesce: only the newest is written. A write that would change nothing
 * but this node's update time is skipped. Outcomes are counted in
 * {@code drift.policy.resource.status.writes{result=written|unchanged|conflict|failed}}.
 */
final class StatusWriter implements AutoCloseable {
    static final String WRITES = "drift.policy.resource.status.writes";
    private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);

    private final KubernetesClient client;
    private final int maxAttempts;
    private final Duration backoff;
    private final Map<String, StatusReport> pending = new ConcurrentHashMap<>();
    private final ExecutorService executor;
    private final Counter written;
    private final Counter unchanged;
    private final Counter conflict;
    private final Counter failed;

    StatusWriter(KubernetesClient client, MeterRegistry registry, int maxAttempts, Duration backoff) {
        this.client = Objects.requireNonNull(client, "client");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        this.maxAttempts = maxAttempts;
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "drift-policy-status");
            thread.setDaemon(true);
            return thread;
        });
        String description = "DriftPolicy status writes: written, unchanged (skipped), conflict (409, redone), failed";
        this.written = Counter.builder(WRITES).tag("result", "written").description(description).register(registry);
        this.unchanged = Counter.builder(WRITES).tag("result", "unchanged").description(description).register(registry);
        this.conflict = Counter.builder(WRITES).tag("result", "conflict").description(description).register(registry);
        this.failed = Counter.builder(WRITES).tag("result", "failed").description(description).register(registry);
    }

    /** Queues the report; an older report for the same resource that is not written yet is replaced. */
    void submit(String name, StatusReport report) {
        pending.put(name, report);
        try {
            executor.execute(() -> drain(name));
        } catch (RejectedExecutionException closed) {
            LOG.debug("status of {} not written: shutting down", ResourcePolicyReader.sourceName(name));
        }
    }

    private MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> resources() {
        return client.genericKubernetesResources(DriftPolicyResources.CONTEXT);
    }

    private void drain(String name) {
        StatusReport report = pending.remove(name);
        if (report != null) {
            write(name, report);
        }
    }

    private void write(String name, StatusReport report) {
        String source = ResourcePolicyReader.sourceName(name);
        for (int attempt = 1; ; attempt++) {
            try {
                GenericKubernetesResource live = resources().withName(name).get();
                if (live == null) {
                    LOG.debug("{} is gone: no status to write", source);
                    return;
                }
                Object current = live.getAdditionalProperties().get("status");
                Map<String, Object> status = StatusDocument.merge(current, report);
                if (StatusDocument.sameApartFromTime(current, status, report.node())) {
                    unchanged.increment();
                    return;
                }
                live.getAdditionalProperties().put("status", status);
                resources().resource(live).updateStatus();
                written.increment();
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    LOG.debug("{} is gone: no status to write", source);
                    return;
                }
                if (e.getCode() == 409 && attempt < maxAttempts) {
                    conflict.increment();
                    if (!pause(attempt)) {
                        return;
                    }
                    continue;
                }
                failed.increment();
                LOG.warn("status of {} not written (attempt {}): {} {}", source, attempt, e.getCode(), e.getMessage());
                return;
            } catch (RuntimeException e) {
                failed.increment();
                LOG.warn("status of {} not written: {}", source, e.toString());
                return;
            }
        }
    }

    /** A jittered pause growing with the attempt, so agents that conflicted do not collide again in step. */
    private boolean pause(int attempt) {
        long base = backoff.toMillis() * Math.min(attempt, 8);
        try {
            TimeUnit.MILLISECONDS.sleep(base / 2 + ThreadLocalRandom.current().nextLong(base + 1));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(2, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
