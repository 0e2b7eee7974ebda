package io.driftagent.agent.policysource;

import io.driftagent.agent.kubernetes.InformerFailure;
import io.driftagent.agent.kubernetes.RetryingInformer;
import io.driftagent.policy.load.Problem;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the cluster's DriftPolicy resources with a fabric8 informer and keeps {@link EffectivePolicy} up to date.
 *
 * <ul>
 * <li>A new generation of a resource is validated ({@link ResourcePolicyReader}). Valid: it replaces that resource's
 *     previous version in the policy in force. Not valid: the policy in force does not change (the resource's last
 *     good generation stays; a resource that was never valid takes no part), the rejection is logged with every
 *     problem and counted ({@code drift.policy.resource.loads{result=rejected}}).</li>
 * <li>Either way this node's report (observed and applied generation, the problems) goes to the resource's status
 *     ({@link StatusWriter}). Updates that do not change the generation (status writes, label edits) are not
 *     re-validated.</li>
 * <li>A deleted resource's rules leave the policy.</li>
 * <li>API server unreachable, CRD not installed, access forbidden: logged (once per cause, until it recovers),
 *     counted ({@code drift.policy.resource.degraded{reason}}), retried with back-off; the policy in force (the file
 *     and the resources known so far) stays.</li>
 * </ul>
 */
public final class DriftPolicyWatcher implements AutoCloseable {
    static final String LOADS = "drift.policy.resource.loads";
    static final String DEGRADED = "drift.policy.resource.degraded";
    private static final Logger LOG = LoggerFactory.getLogger(DriftPolicyWatcher.class);

    /** Where the watch stands. */
    public enum State { STARTING, SYNCED, DEGRADED, STOPPED }

    /** What this agent knows of one resource: which object (uid), which generation it read, which is in force. */
    private record Tracked(String uid, long observedGeneration, Long appliedGeneration) {
    }

    private final String nodeName;
    private final EffectivePolicy policy;
    private final Clock clock;
    private final ResourcePolicyReader reader = new ResourcePolicyReader();
    private final StatusWriter status;
    private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
    private final Counter applied;
    private final Counter rejected;
    private final MeterRegistry registry;
    private final AtomicBoolean everSynced = new AtomicBoolean();
    private final AtomicReference<String> degradedReason = new AtomicReference<>();
    private final RetryingInformer<GenericKubernetesResource> informer;

    public DriftPolicyWatcher(KubernetesClient client, String nodeName, EffectivePolicy policy, Clock clock,
                              MeterRegistry registry) {
        this(client, nodeName, policy, clock, registry, 8, Duration.ofMillis(100));
    }

    /** @param statusAttempts how often a status write is tried when it conflicts; {@code statusBackoff} the pause unit */
    DriftPolicyWatcher(KubernetesClient client, String nodeName, EffectivePolicy policy, Clock clock,
                       MeterRegistry registry, int statusAttempts, Duration statusBackoff) {
        Objects.requireNonNull(client, "client");
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("nodeName is required");
        }
        this.nodeName = nodeName;
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.registry = registry;
        this.status = new StatusWriter(client, registry, statusAttempts, statusBackoff);
        this.informer = new RetryingInformer<>(
                () -> client.genericKubernetesResources(DriftPolicyResources.CONTEXT).runnableInformer(0),
                new Events(), new WatchEvents(), clock);
        String description = "DriftPolicy resource generations read: applied (valid) or rejected (the last good one stays)";
        this.applied = Counter.builder(LOADS).tag("result", "applied").description(description).register(registry);
        this.rejected = Counter.builder(LOADS).tag("result", "rejected").description(description).register(registry);
        for (String reason : new String[] {"crd_missing", "forbidden", "api_unavailable"}) {
            degradedCounter(reason);
        }
        Gauge.builder("drift.policy.resources.active", policy, EffectivePolicy::resourceCount)
                .description("DriftPolicy resources taking part in the policy in force").register(registry);
        Gauge.builder("drift.policy.resources.watching", this, w -> w.state() == State.SYNCED ? 1 : 0)
                .description("1 while DriftPolicy resources are listed and watched, else 0").register(registry);
    }

    private Counter degradedCounter(String reason) {
        return Counter.builder(DEGRADED).tag("reason", reason)
                .description("Failed attempts to list or watch DriftPolicy resources (the policy in force stays)")
                .register(registry);
    }

    /**
     * Starts listing and watching in the background; returns at once. Failures are retried: the CRD may be installed,
     * RBAC granted, the API server back later; {@link #state()} notices when it has synced.
     */
    public void start() {
        informer.start();
    }

    /**
     * Waits up to {@code timeout} for the first complete list (the informer may have failed and retried before);
     * true when it came. For tests and start-up.
     */
    public boolean awaitSynced(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (state() != State.SYNCED) {
            if (System.nanoTime() > deadline || informer.isClosed()) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return true;
    }

    /**
     * Where the watch stands. The informer reports failures but not recoveries, so the first call that finds it synced
     * again (the {@code drift.policy.resources.watching} gauge asks at every scrape) logs the recovery.
     */
    public State state() {
        if (informer.isClosed()) {
            return State.STOPPED;
        }
        if (informer.hasSynced() && informer.isWatching()) {
            String was = degradedReason.getAndSet(null);
            if (!everSynced.getAndSet(true) || was != null) {
                LOG.info("DriftPolicy resources watched{}: {} in the policy in force",
                        was == null ? "" : " again (was " + was + ")", policy.resourceCount());
            }
            return State.SYNCED;
        }
        return degradedReason.get() != null ? State.DEGRADED : State.STARTING;
    }

    /** The last list or watch failure, if any (kept after recovery). */
    public Optional<String> lastFailure() {
        return informer.lastFailure().map(InformerFailure::message);
    }

    @Override
    public void close() {
        if (informer.close()) {
            status.close();
        }
    }

    private void degraded(InformerFailure failure, Throwable thrown) {
        String reason = reason(thrown);
        degradedCounter(reason).increment();
        String message = failure.message();
        String previous = degradedReason.getAndSet(reason);
        if (reason.equals(previous)) {
            LOG.debug("DriftPolicy resources still not watched ({}): {}", reason, message);
            return;
        }
        String why = switch (reason) {
            case "crd_missing" -> "the CustomResourceDefinition " + DriftPolicyResources.CRD_NAME
                    + " is not installed (the chart installs it with policy.resources.installCRD=true)";
            case "forbidden" -> "this agent's service account may not list/watch " + DriftPolicyResources.PLURAL
                    + "." + DriftPolicyResources.GROUP + " (RBAC)";
            default -> "the Kubernetes API server is unreachable or failing";
        };
        LOG.warn("DriftPolicy resources not watched: {}; the policy file and the {} resources already known stay in"
                + " force; retrying with back-off ({})", why, policy.resourceCount(), message);
    }

    private static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k && k.getCode() > 0) {
                if (k.getCode() == 404) {
                    return "crd_missing";
                }
                if (k.getCode() == 401 || k.getCode() == 403) {
                    return "forbidden";
                }
                return "api_unavailable";
            }
        }
        return "api_unavailable";
    }

    private void changed(GenericKubernetesResource resource) {
        String name = resource.getMetadata().getName();
        String uid = String.valueOf(resource.getMetadata().getUid());
        Long generationField = resource.getMetadata().getGeneration();
        long generation = generationField == null ? 0 : generationField;
        Tracked known = tracked.get(name);
        if (known != null && known.uid().equals(uid) && known.observedGeneration() == generation) {
            return; // a status write or a metadata edit: nothing new to validate
        }
        boolean sameObject = known != null && known.uid().equals(uid);
        ResourceValidation validation = reader.read(resource);
        String source = ResourcePolicyReader.sourceName(name);
        Long appliedGeneration;
        if (validation.valid()) {
            policy.resourceChanged(validation.policy().get());
            appliedGeneration = generation;
            applied.increment();
            LOG.info("{} generation {} applied ({} warnings)", source, generation,
                    validation.problems().size());
        } else {
            if (known != null && !sameObject) {
                policy.resourceRemoved(name); // a new object under an old name: the old one's rules are gone
            }
            appliedGeneration = sameObject ? known.appliedGeneration() : null;
            rejected.increment();
            LOG.warn("{} generation {} rejected, {}: {}", source, generation,
                    appliedGeneration == null ? "it takes no part in the policy in force"
                            : "generation " + appliedGeneration + " stays in force",
                    validation.errors().stream().map(Problem::toString).collect(Collectors.joining("; ")));
        }
        tracked.put(name, new Tracked(uid, generation, appliedGeneration));
        status.submit(name, new StatusReport(nodeName, generation, appliedGeneration, validation.valid(),
                validation.problems(), clock.instant()));
    }

    private void removed(GenericKubernetesResource resource) {
        String name = resource.getMetadata().getName();
        tracked.remove(name);
        policy.resourceRemoved(name);
    }

    /** A failure degrades the watch (logged once per cause, counted); the first list is logged by state(). */
    private final class WatchEvents implements RetryingInformer.Listener {
        @Override
        public void failed(InformerFailure failure, Throwable thrown) {
            degraded(failure, thrown);
        }

        @Override
        public void listed() {
            state();
        }
    }

    private final class Events implements ResourceEventHandler<GenericKubernetesResource> {
        @Override
        public void onAdd(GenericKubernetesResource resource) {
            changed(resource);
        }

        @Override
        public void onUpdate(GenericKubernetesResource previous, GenericKubernetesResource resource) {
            changed(resource);
        }

        @Override
        public void onDelete(GenericKubernetesResource resource, boolean finalStateUnknown) {
            removed(resource);
        }
    }
}
