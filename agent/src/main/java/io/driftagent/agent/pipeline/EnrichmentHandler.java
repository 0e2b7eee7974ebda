package io.driftagent.agent.pipeline;

import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds the workload metadata. A container that started moments ago may not be in the pod cache yet: such an exec
 * is parked (never waited for on this thread) and looked up again on a retry schedule; when the schedule is
 * exhausted, or the parking lot is full, it goes on with what is known.
 */
final class EnrichmentHandler implements StageHandler<ExecInFlight> {

    private static final Logger LOG = LoggerFactory.getLogger(EnrichmentHandler.class);

    private final MetadataProvider provider;
    private final ParkingLot<ExecInFlight> parking;
    private final StageInput<ExecInFlight> next;
    private final PipelineMetrics metrics;
    private final MonotonicClock clock;

    EnrichmentHandler(MetadataProvider provider, ParkingLot<ExecInFlight> parking, StageInput<ExecInFlight> next,
                      PipelineMetrics metrics, MonotonicClock clock) {
        this.provider = provider;
        this.parking = parking;
        this.next = next;
        this.metrics = metrics;
        this.clock = clock;
        metrics.parked(parking::size);
    }

    @Override
    public void handle(ExecInFlight exec) {
        Optional<WorkloadMetadata> metadata = provider.lookup(exec.container().id());
        if (metadata.isPresent()) {
            next.offer(exec.withMetadata(metadata.get()));
        } else if (parking.park(exec, clock.nanoTime())) {
            metrics.metadataParked.increment();
            LOG.debug("no metadata yet for container {}; parked", exec.container().id());
        } else {
            metrics.parkingFull.increment();
            next.offer(exec.withMetadata(lastResort(exec)));
        }
    }

    @Override
    public long nanosUntilTimer(long nowNanos) {
        return parking.nanosUntilNextDue(nowNanos);
    }

    @Override
    public void onTimer(long nowNanos) {
        for (ParkingLot.Parked<ExecInFlight> parked : parking.takeDue(nowNanos)) {
            retry(parked, true);
        }
    }

    @Override
    public void flush() {
        for (ParkingLot.Parked<ExecInFlight> parked : parking.takeAll()) {
            retry(parked, false);
        }
    }

    private void retry(ParkingLot.Parked<ExecInFlight> parked, boolean mayWaitAgain) {
        Optional<WorkloadMetadata> metadata = provider.lookup(parked.item.container().id());
        if (metadata.isPresent()) {
            metrics.metadataResolved.increment();
            next.offer(parked.item.withMetadata(metadata.get()));
        } else if (!mayWaitAgain || !parking.repark(parked)) {
            metrics.metadataGaveUp.increment();
            LOG.debug("no metadata for container {}; going on with what the last resort knows", parked.item.container().id());
            next.offer(parked.item.withMetadata(lastResort(parked.item)));
        }
    }

    private WorkloadMetadata lastResort(ExecInFlight exec) {
        return provider.lastResort(exec.container().id()).orElse(WorkloadMetadata.UNKNOWN);
    }
}
