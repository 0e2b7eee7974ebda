package io.driftagent.agent.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A fabric8 shared informer run the way every informer of the agent runs: started once, in the background; through
 * every failure (the first list, API server down, 401/403, 404 of a missing CRD, a watch closed) it retries with
 * back-off for as long as it lives, because the agent must outlive outages and the cluster may be fixed later. Each
 * failure is kept as the last one (also after recovery) and handed to the owner; a failure after {@link #close()} is
 * not. What a failure means (its log line, its metric) and what the owner's states are called stay with the owner.
 *
 * @param <T> the watched resource
 */
public final class RetryingInformer<T extends HasMetadata> {

    /** What the owner does on the informer's news; called on fabric8's threads. */
    public interface Listener {
        /**
         * A list or watch failed; the informer retries.
         *
         * @param failure what {@link RetryingInformer#lastFailure()} now holds
         * @param thrown  what fabric8 reported (for a status code)
         */
        void failed(InformerFailure failure, Throwable thrown);

        /** The first complete list came ({@link RetryingInformer#hasListed()} is true from then on). */
        void listed();
    }

    private final Supplier<SharedIndexInformer<T>> create;
    private final ResourceEventHandler<T> events;
    private final Listener listener;
    private final Clock clock;
    private final AtomicBoolean listed = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicReference<InformerFailure> lastFailure = new AtomicReference<>();
    private volatile SharedIndexInformer<T> informer;

    /**
     * @param create makes the informer, not started ({@code runnableInformer}); called once, by {@link #start()}
     */
    public RetryingInformer(Supplier<SharedIndexInformer<T>> create, ResourceEventHandler<T> events,
                            Listener listener, Clock clock) {
        this.create = Objects.requireNonNull(create, "create");
        this.events = Objects.requireNonNull(events, "events");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Starts listing and watching in the background; returns at once. A second call does nothing. */
    public synchronized void start() {
        if (closed.get()) {
            throw new IllegalStateException("closed");
        }
        if (informer != null) {
            return;
        }
        SharedIndexInformer<T> created = create.get();
        created.addEventHandler(events);
        created.exceptionHandler((started, failure) -> {
            failed(failure);
            return true; // keep retrying
        });
        informer = created;
        created.start().whenComplete((ignored, failure) -> {
            if (failure == null) {
                listed.set(true);
                listener.listed();
            } else if (!closed.get()) {
                failed(failure); // the informer goes on retrying
            }
        });
    }

    private void failed(Throwable thrown) {
        InformerFailure failure = new InformerFailure(clock.instant(),
                thrown.getClass().getSimpleName() + ": " + thrown.getMessage());
        lastFailure.set(failure);
        listener.failed(failure, thrown);
    }

    /** Started (and not closed). */
    public boolean isStarted() {
        return informer != null && !closed.get();
    }

    /** The first start's list completed. */
    public boolean hasListed() {
        return listed.get();
    }

    /** The informer's own view: it has synced (its first list is in its store). */
    public boolean hasSynced() {
        SharedIndexInformer<T> current = informer;
        return current != null && current.hasSynced();
    }

    /** The watch is up now. */
    public boolean isWatching() {
        SharedIndexInformer<T> current = informer;
        return current != null && current.isWatching();
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** The last list or watch failure, if any (kept after recovery). */
    public Optional<InformerFailure> lastFailure() {
        return Optional.ofNullable(lastFailure.get());
    }

    /** Stops the informer. @return true for the call that closed it, false when it was closed already */
    public synchronized boolean close() {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        SharedIndexInformer<T> current = informer;
        if (current != null) {
            current.stop();
        }
        return true;
    }
}
