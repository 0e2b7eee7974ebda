package io.driftagent.agent.metadata.kubernetes;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.kubernetes.InformerFailure;
import io.driftagent.agent.kubernetes.RetryingInformer;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workload metadata for the containers of this node, from a fabric8 shared informer on the pods whose
 * {@code spec.nodeName} is this node, indexed by runtime container id (init, regular, ephemeral containers).
 *
 * <p>Lookups answer from the in-memory index and never touch the network. Deleted pods stay answerable for a grace
 * period. An API-server outage keeps the cache (lookups still answered, {@link #state()} is
 * {@link InformerState#DISCONNECTED}); the informer retries with backoff and re-lists when the server is back.
 *
 * <p>Late data: a container that started a moment ago may not be in its pod's status yet. {@link #whenKnown} parks
 * the caller without blocking: the returned future completes when the informer indexes that container, or with
 * empty after {@code maxWait}.
 *
 * <p>Lifecycle: construct, {@link #start()} (returns at once, syncs in the background),
 * optionally {@link #awaitSynced(Duration)}, {@link #close()} to stop. The client is owned by the caller.
 */
public final class PodMetadataInformer implements MetadataProvider, AutoCloseable {
    /** The default grace period during which a deleted pod's containers are still attributed. */
    public static final Duration DEFAULT_DELETED_POD_GRACE = Duration.ofMinutes(5);
    /** The default bound on callers parked in {@link #whenKnown}; beyond it they get an immediate empty answer. */
    public static final int DEFAULT_MAX_PARKED = 4096;

    private static final Logger LOG = LoggerFactory.getLogger(PodMetadataInformer.class);

    private final String nodeName;
    private final int maxParked;
    private final ContainerIndex index;
    private final Map<ContainerId, List<CompletableFuture<Optional<WorkloadMetadata>>>> parked =
            new ConcurrentHashMap<>();
    private final AtomicInteger parkedCount = new AtomicInteger();
    private final AtomicLong parkedOverflows = new AtomicLong();
    private final CompletableFuture<Void> firstSync = new CompletableFuture<>();
    private final RetryingInformer<Pod> informer;

    public PodMetadataInformer(KubernetesClient client, String nodeName, Duration deletedPodGrace, Clock clock) {
        this(client, nodeName, deletedPodGrace, clock, DEFAULT_MAX_PARKED);
    }

    public PodMetadataInformer(KubernetesClient client, String nodeName, Duration deletedPodGrace, Clock clock,
                               int maxParked) {
        Objects.requireNonNull(client, "client");
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("nodeName is required (set NODE_NAME from the downward API)");
        }
        if (maxParked < 0) {
            throw new IllegalArgumentException("maxParked must not be negative: " + maxParked);
        }
        this.nodeName = nodeName;
        this.maxParked = maxParked;
        this.index = new ContainerIndex(Objects.requireNonNull(clock, "clock"), deletedPodGrace, this::completeParked);
        this.informer = new RetryingInformer<>(
                () -> client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0),
                new PodEvents(), new SyncEvents(), clock);
    }

    /** Starts listing and watching in the background; returns at once. Failures are retried with backoff. */
    public void start() {
        informer.start();
    }

    /** Waits (blocking the caller) up to {@code timeout} for the first sync; true when synced. For start-up only. */
    public boolean awaitSynced(Duration timeout) throws InterruptedException {
        try {
            firstSync.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException notYet) {
            return false;
        } catch (ExecutionException neverCompletedExceptionally) {
            throw new IllegalStateException(neverCompletedExceptionally);
        }
    }

    public InformerState state() {
        if (informer.isClosed()) {
            return InformerState.STOPPED;
        }
        if (!informer.hasListed()) {
            return InformerState.STARTING;
        }
        return informer.isWatching() ? InformerState.SYNCED : InformerState.DISCONNECTED;
    }

    /** Synced and watching: what readiness requires in Kubernetes mode. */
    public boolean isSynced() {
        return state() == InformerState.SYNCED;
    }

    /** The last list/watch failure seen (kept after recovery, with its time), if any. */
    public Optional<InformerFailure> lastSyncError() {
        return informer.lastFailure();
    }

    @Override
    public Optional<WorkloadMetadata> lookup(ContainerId id) {
        return index.lookup(id);
    }

    /** Pod-level metadata (no container fields) by pod uid, e.g. from the cgroup path when the container is new. */
    public Optional<WorkloadMetadata> lookupPod(String podUid) {
        return podUid == null ? Optional.empty() : index.lookupPod(podUid);
    }

    /**
     * Completes with the container's metadata as soon as the informer knows it (at once if it already does), or
     * with empty after {@code maxWait}. Never blocks the caller. When more than {@code maxParked} callers wait,
     * completes at once with what is known now (counted in {@link #parkedOverflows()}).
     */
    public CompletableFuture<Optional<WorkloadMetadata>> whenKnown(ContainerId id, Duration maxWait) {
        Optional<WorkloadMetadata> known = index.lookup(id);
        if (known.isPresent() || maxWait.isZero() || maxWait.isNegative()) {
            return CompletableFuture.completedFuture(known);
        }
        if (parkedCount.incrementAndGet() > maxParked) {
            parkedCount.decrementAndGet();
            parkedOverflows.incrementAndGet();
            return CompletableFuture.completedFuture(Optional.empty());
        }
        CompletableFuture<Optional<WorkloadMetadata>> future = new CompletableFuture<>();
        parked.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(future);
        // the caller's stage completes only after the waiter is unparked, so parkedCount is exact once it sees the answer
        CompletableFuture<Optional<WorkloadMetadata>> answered =
                future.whenComplete((result, failure) -> unpark(id, future));
        // the container may have been indexed between the first look and the parking
        index.lookup(id).ifPresent(metadata -> future.complete(Optional.of(metadata)));
        future.completeOnTimeout(Optional.empty(), maxWait.toNanos(), TimeUnit.NANOSECONDS);
        return answered;
    }

    private void unpark(ContainerId id, CompletableFuture<Optional<WorkloadMetadata>> future) {
        parked.computeIfPresent(id, (k, waiters) -> {
            if (waiters.remove(future)) {
                parkedCount.decrementAndGet();
            }
            return waiters.isEmpty() ? null : waiters;
        });
    }

    private void completeParked(ContainerId id, WorkloadMetadata metadata) {
        List<CompletableFuture<Optional<WorkloadMetadata>>> waiters = parked.get(id);
        if (waiters != null) {
            for (CompletableFuture<Optional<WorkloadMetadata>> waiter : new ArrayList<>(waiters)) {
                waiter.complete(Optional.of(metadata));
            }
        }
    }

    /** Callers currently parked in {@link #whenKnown}. */
    public int parkedCount() {
        return parkedCount.get();
    }

    /** Callers answered at once because too many were parked. */
    public long parkedOverflows() {
        return parkedOverflows.get();
    }

    /** Containers of live pods in the index (excluding the grace cache). */
    public int indexedContainers() {
        return index.liveContainers();
    }

    /**
     * Registers {@code drift.informer.state} (see {@link InformerState#code()}), {@code drift.informer.synced} (1 while
     * the cache follows the API server, else 0) and the index size.
     */
    public void registerMetrics(MeterRegistry registry) {
        Gauge.builder("drift.informer.synced", this, informer -> informer.state() == InformerState.SYNCED ? 1 : 0)
                .description("1 when the pod informer has synced and is watching, else 0").register(registry);
        Gauge.builder("drift.informer.state", this, informer -> informer.state().code())
                .description("pod informer state: 0 starting, 1 synced, 2 disconnected, 3 stopped")
                .register(registry);
        Gauge.builder("drift.informer.containers", this, PodMetadataInformer::indexedContainers)
                .description("containers of this node's pods in the metadata index").register(registry);
        Gauge.builder("drift.informer.containers.departed", index, ContainerIndex::departedContainers)
                .description("containers of deleted pods still kept for the grace period").register(registry);
    }

    @Override
    public void close() {
        if (informer.close()) {
            parked.values().forEach(waiters -> waiters.forEach(w -> w.complete(Optional.empty())));
        }
    }

    private boolean isOnThisNode(Pod pod) {
        return pod.getSpec() != null && nodeName.equals(pod.getSpec().getNodeName());
    }

    private static String keyOf(Pod pod) {
        String uid = pod.getMetadata().getUid();
        return uid != null ? uid : pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    /** An outage keeps the cache: every failure is logged, the informer retries. */
    private final class SyncEvents implements RetryingInformer.Listener {
        @Override
        public void failed(InformerFailure failure, Throwable thrown) {
            LOG.warn("pod informer for node {}: {} (cache kept, retrying)", nodeName, failure.message());
        }

        @Override
        public void listed() {
            firstSync.complete(null);
            LOG.info("pod informer for node {} synced: {} containers indexed", nodeName, index.liveContainers());
        }
    }

    private final class PodEvents implements ResourceEventHandler<Pod> {
        @Override
        public void onAdd(Pod pod) {
            index(pod);
        }

        @Override
        public void onUpdate(Pod previous, Pod pod) {
            index(pod);
        }

        @Override
        public void onDelete(Pod pod, boolean finalStateUnknown) {
            LOG.debug("pod {}/{} deleted (final state unknown: {})", pod.getMetadata().getNamespace(),
                    pod.getMetadata().getName(), finalStateUnknown);
            index.remove(keyOf(pod));
        }

        private void index(Pod pod) {
            if (!isOnThisNode(pod)) {
                // the field selector already filters; a pod moved away (never happens today) leaves the index
                index.remove(keyOf(pod));
                return;
            }
            index.upsert(keyOf(pod), PodContainers.podMetadata(pod), PodContainers.of(pod));
        }
    }
}
