package io.driftagent.agent.pipeline;

import io.driftagent.agent.classification.UnresolvedReason;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.agent.source.ImageExecKeeping;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Every meter of the pipeline, registered up front so the hot path only increments. Names are dotted (Micrometer
 * renders {@code drift.stage.latency} as {@code drift_stage_latency_seconds} for Prometheus).
 *
 * <p>Series budget: by default each stage's latency is a count and a sum (the mean per stage, 2 series) and only
 * exec-to-alert is a histogram, with {@link #EXEC_TO_ALERT_BUCKETS} buckets. Per-stage histograms (the same buckets)
 * are opt-in ({@code metrics.stageHistograms}): 6 stages x their buckets would be most of a node's series.
 */
final class PipelineMetrics {

    static final String STAGE_LATENCY = "drift.stage.latency";
    static final String EXEC_TO_ALERT = "drift.exec_to_alert.latency";
    static final String QUEUE_DEPTH = "drift.pipeline.queue.depth";
    static final String DROPPED = "drift.pipeline.dropped";
    static final String STAGE_ERRORS = "drift.pipeline.errors";
    static final String STOPPED_EARLY = "drift.pipeline.stopped_early";
    private static final String STOPPED_EARLY_DESCRIPTION =
            "Execs that left the pipeline early: not in a container, or the image's own file";
    static final String LATE_METADATA = "drift.pipeline.late_metadata";
    static final String PARKED = "drift.pipeline.parked";
    static final String VERDICTS = "drift.verdicts";
    static final String PUBLISHED = "drift.pipeline.published";
    static final String PROCESS_SNAPSHOTS = "drift.pipeline.process_snapshots";
    static final String UNRESOLVED = "drift.unresolved";

    /**
     * Latency buckets: fine up to 10 ms (the exec-to-alert target), coarse above; histogram_quantile() interpolates
     * within one. Few on purpose: every bucket is one series per node.
     */
    static final Duration[] EXEC_TO_ALERT_BUCKETS = {
        Duration.ofNanos(100_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000),
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofSeconds(5)};

    private final MeterRegistry registry;
    private final boolean stageHistograms;
    final Counter hostProcess;
    final Counter imageFile;
    final Counter metadataParked;
    final Counter metadataResolved;
    final Counter metadataGaveUp;
    final Counter parkingFull;
    final Counter published;
    final Counter publishRejected;
    final Counter latencyOutOfRange;
    final Counter snapshotAtAttribution;
    final Counter snapshotAfterClassification;
    final Timer execToAlert;
    private final Map<DriftKind, Map<Verdict.Decision, FirstUseCounter>> verdicts = new EnumMap<>(DriftKind.class);
    private final Map<UnresolvedReason, Counter> unresolved = new EnumMap<>(UnresolvedReason.class);

    PipelineMetrics(MeterRegistry registry) {
        this(registry, false);
    }

    /** @param stageHistograms per-stage latency histograms (opt-in); false = per-stage count and sum only */
    PipelineMetrics(MeterRegistry registry, boolean stageHistograms) {
        this.registry = registry;
        this.stageHistograms = stageHistograms;
        this.hostProcess = stoppedEarly("host_process");
        this.imageFile = stoppedEarly("image_file");
        this.metadataParked = lateMetadata("parked");
        this.metadataResolved = lateMetadata("resolved");
        this.metadataGaveUp = lateMetadata("gave_up");
        this.parkingFull = lateMetadata("parking_full");
        this.published = Counter.builder(PUBLISHED).tag("outcome", "accepted")
                .description("Alerts handed to the reporter").register(registry);
        this.publishRejected = Counter.builder(PUBLISHED).tag("outcome", "rejected")
                .description("Alerts handed to the reporter").register(registry);
        this.latencyOutOfRange = Counter.builder("drift.exec_to_alert.out_of_range")
                .description("Exec timestamps not comparable with the monotonic clock (not recorded as latency)")
                .register(registry);
        this.snapshotAtAttribution = processSnapshots("attribution");
        this.snapshotAfterClassification = processSnapshots("after_classification");
        for (UnresolvedReason reason : UnresolvedReason.values()) {
            unresolved.put(reason, Counter.builder(UNRESOLVED).tag("reason", reason.label())
                    .description("Execs in containers classified UNRESOLVED (drift that could not be explained), by"
                            + " cause (docs/alerts.md lists each with what to do)")
                    .register(registry));
        }
        this.execToAlert = Timer.builder(EXEC_TO_ALERT)
                .description("From the exec's kernel timestamp to the alert's hand-off to the reporter")
                .serviceLevelObjectives(EXEC_TO_ALERT_BUCKETS)
                .register(registry);
        // a (kind, action) series appears at its first verdict: of the 4 x 5 combinations a node sees a few
        for (DriftKind kind : DriftKind.values()) {
            Map<Verdict.Decision, FirstUseCounter> byDecision = new EnumMap<>(Verdict.Decision.class);
            for (Verdict.Decision decision : Verdict.Decision.values()) {
                byDecision.put(decision, new FirstUseCounter(Counter.builder(VERDICTS)
                        .tag("kind", kind.name()).tag("action", decision.wireName())
                        .description("Policy verdicts on drifted execs"), registry));
            }
            verdicts.put(kind, byDecision);
        }
    }

    /** The verdict counter of one (kind, action); its series is registered at its first increment. */
    FirstUseCounter verdict(DriftKind kind, Verdict.Decision decision) {
        return verdicts.get(kind).get(decision);
    }

    /** One stage's latency: a histogram when opted in, else its count and sum (no buckets, no max). */
    StageTimer stageLatency(String stage) {
        if (stageHistograms) {
            Timer timer = Timer.builder(STAGE_LATENCY).tag("stage", stage)
                    .description("Time one stage spends on one item")
                    .serviceLevelObjectives(EXEC_TO_ALERT_BUCKETS)
                    .register(registry);
            return nanos -> timer.record(nanos, TimeUnit.NANOSECONDS);
        }
        LongAdder count = new LongAdder();
        LongAdder totalNanos = new LongAdder();
        FunctionTimer.builder(STAGE_LATENCY, count, LongAdder::sum, c -> totalNanos.sum(), TimeUnit.NANOSECONDS)
                .tag("stage", stage)
                .description("Time one stage spends on one item (count and sum; buckets with metrics.stageHistograms)")
                .register(registry);
        return nanos -> {
            totalNanos.add(nanos);
            count.increment();
        };
    }

    /** Records one item's time in a stage. */
    @FunctionalInterface
    interface StageTimer {
        void record(long nanos);
    }

    Counter dropped(String stage, String reason) {
        return Counter.builder(DROPPED).tag("stage", stage).tag("reason", reason)
                .description("Items a stage's input queue could not take").register(registry);
    }

    /** A stage's failures; the series is registered at the first one. */
    FirstUseCounter stageErrors(String stage) {
        return new FirstUseCounter(Counter.builder(STAGE_ERRORS).tag("stage", stage)
                .description("Items a stage failed on (dropped)"), registry);
    }

    void queueDepth(String stage, Collection<?> queue) {
        Gauge.builder(QUEUE_DEPTH, queue, Collection::size).tag("stage", stage)
                .description("Items waiting in a stage's input queue").register(registry);
    }

    void parked(Supplier<Number> size) {
        Gauge.builder(PARKED, size).description("Execs waiting for late workload metadata").register(registry);
    }

    /** Counts one UNRESOLVED classification by its cause. */
    void unresolved(UnresolvedReason reason) {
        unresolved.get(reason).increment();
    }

    private Counter stoppedEarly(String reason) {
        return Counter.builder(STOPPED_EARLY).tag("reason", reason).description(STOPPED_EARLY_DESCRIPTION)
                .register(registry);
    }

    /** The image execs the exec source kept in the kernel and never delivered, read from it at scrape. */
    void keptInKernel(ImageExecKeeping keeping) {
        FunctionCounter.builder(STOPPED_EARLY, keeping, ImageExecKeeping::kept)
                .tag("reason", "image_file_kept_in_kernel").description(STOPPED_EARLY_DESCRIPTION).register(registry);
    }

    private Counter processSnapshots(String when) {
        return Counter.builder(PROCESS_SNAPSHOTS).tag("when", when)
                .description("/proc snapshots (exe, cmdline, parent exe) of exec'd processes, by when they were taken")
                .register(registry);
    }

    private Counter lateMetadata(String outcome) {
        return Counter.builder(LATE_METADATA).tag("outcome", outcome)
                .description("Execs whose workload metadata was not known at first look").register(registry);
    }
}
