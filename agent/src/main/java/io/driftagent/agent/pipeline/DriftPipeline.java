package io.driftagent.agent.pipeline;

import io.driftagent.agent.source.ExecEventSink;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;

/**
 * Source -> attribute -> classify -> enrich -> policy -> act -> report: six named stages, one thread each, bounded
 * queues between them. The source's {@link #sink()} is the first queue's non-blocking offer, so the source's reader
 * thread never waits on the pipeline; every full queue drops and counts ({@code drift.pipeline.dropped{stage}}).
 * Nothing here touches the network: metadata comes from a local cache, alerts go to the reporter's queue.
 */
public final class DriftPipeline {

    public static final List<String> STAGE_NAMES = List.of("attribute", "classify", "enrich", "policy", "act", "report");

    private final Stage<ExecInFlight.Arrival> attribute;
    private final List<Stage<?>> stages;
    private final MonotonicClock clock;
    private volatile boolean started;

    public DriftPipeline(PipelineParts parts, PipelineSettings settings, MeterRegistry registry, MonotonicClock clock) {
        this.clock = clock;
        PipelineMetrics metrics = new PipelineMetrics(registry);
        int capacity = settings.stageQueueCapacity();
        Stage<ExecInFlight> report = new Stage<>("report", capacity,
                new ReportHandler(parts.publisher(), metrics, clock), clock, metrics);
        Stage<ExecInFlight> act = new Stage<>("act", capacity,
                new ActionHandler(parts.assembler(), report), clock, metrics);
        Stage<ExecInFlight> policy = new Stage<>("policy", capacity,
                new PolicyHandler(parts.policy(), parts.assembler(), act, metrics), clock, metrics);
        ParkingLot<ExecInFlight> parking = new ParkingLot<>(settings.retryOffsetsNanos(), settings.parkingCapacity());
        Stage<ExecInFlight> enrich = new Stage<>("enrich", capacity,
                new EnrichmentHandler(parts.metadata(), parking, policy, metrics, clock), clock, metrics);
        Stage<ExecInFlight> classify = new Stage<>("classify", capacity,
                new ClassificationHandler(parts.classifier(), enrich, metrics), clock, metrics);
        this.attribute = new Stage<>("attribute", settings.sourceQueueCapacity(),
                new AttributionHandler(parts.attributor(), parts.processInspector(), classify, metrics), clock, metrics);
        this.stages = List.of(attribute, classify, enrich, policy, act, report);
    }

    /**
     * What the exec source delivers into: execs that ran. Never blocks; false (the source counts a loss) when the
     * first queue is full. A BLOCK verdict on such an exec is reported as {@code BinaryDrift} with action
     * {@code block}: the policy wanted it blocked, but it ran (no guard, or the guard's deadline passed).
     */
    public ExecEventSink sink() {
        return event -> attribute.offer(new ExecInFlight.Arrival(event, false));
    }

    /**
     * Where the blocking guard (fanotify {@code FAN_OPEN_EXEC_PERM}) reports execs it denied, after answering the
     * kernel: each becomes a {@code BinaryDriftBlocked} alert. Same queue and guarantees as {@link #sink()}.
     */
    public ExecEventSink deniedSink() {
        return event -> attribute.offer(new ExecInFlight.Arrival(event, true));
    }

    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("pipeline already started");
        }
        started = true;
        stages.forEach(Stage::start);
    }

    /**
     * Drains the stages in order (each finishes its queue, the enrich stage releases parked execs with what is
     * known), then stops their threads. What is still queued at the deadline is dropped and counted. Stop the
     * source first.
     *
     * @return true when everything drained before the deadline
     */
    public synchronized boolean drainAndStop(Duration deadline) throws InterruptedException {
        long deadlineNanos = clock.nanoTime() + deadline.toNanos();
        boolean complete = true;
        for (Stage<?> stage : stages) {
            complete &= stage.drain(deadlineNanos);
        }
        return complete;
    }

    /** Stages whose thread is not running: all of them before start and after stop, any that died in between. */
    public List<String> stoppedStages() {
        return stages.stream().filter(stage -> !stage.isRunning()).map(Stage::name).toList();
    }

    /** Items waiting in all queues (for tests and diagnostics). */
    public int queued() {
        return stages.stream().mapToInt(Stage::depth).sum();
    }
}
