package io.driftagent.agent.pipeline;

import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ImageExecKeeping;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * Source -> attribute -> classify -> enrich -> policy -> act -> report: six named stages on two threads, each thread
 * fed by a bounded queue.
 *
 * <ul>
 *   <li>The {@code attribute} thread (the source's queue) attributes and classifies: every exec on the host passes
 *       here, most stop here (host processes, the image's own files), and both steps read the live process's /proc
 *       entries, so no queue separates them.</li>
 *   <li>The {@code enrich} thread (its own queue) takes drifted execs only: metadata (late metadata parks here), then
 *       policy, act and report, each cheap, run inline.</li>
 * </ul>
 * An inline stage keeps its name, its latency timer and its error counter; only the queued stages have a queue depth
 * gauge and drop counters. Every hand-off between threads wakes one; under an exec storm on a busy node each wake-up
 * waits for a CPU, so the stages share threads. The source's {@link #sink()} is the first queue's non-blocking offer,
 * so the source's reader thread never waits on the pipeline; every full queue drops and counts
 * ({@code drift.pipeline.dropped{stage}}). Nothing here touches the network: metadata comes from a local cache, alerts
 * go to the reporter's queue.
 */
public final class DriftPipeline {

    public static final List<String> STAGE_NAMES = List.of("attribute", "classify", "enrich", "policy", "act", "report");

    private final Stage<ExecInFlight.Arrival> attribute;
    private final List<Stage<?>> queued;
    private final List<InlineStage<?>> inline;
    private final MonotonicClock clock;
    private final ProcessInspector processInspector;
    private final KnownImageExecs knownImageExecs;
    /** Room in the first queue beyond its capacity, for {@link #neverDropped} execs (and producers racing them). */
    static final int RESERVED_FOR_CANARIES = 16;
    private final Predicate<ExecEvent> neverDropped;
    private final PipelineMetrics metrics;
    private volatile boolean started;

    public DriftPipeline(PipelineParts parts, PipelineSettings settings, MeterRegistry registry, MonotonicClock clock) {
        this(parts, settings, registry, clock, event -> false);
    }

    /**
     * @param neverDropped execs that may use the first queue's reserved room when it is full for everything else: the
     *                     self-test's canaries, so that a node's exec storm cannot keep the agent from proving that
     *                     it detects (and from becoming Ready)
     */
    public DriftPipeline(PipelineParts parts, PipelineSettings settings, MeterRegistry registry, MonotonicClock clock,
                         Predicate<ExecEvent> neverDropped) {
        this.clock = clock;
        this.neverDropped = neverDropped;
        this.processInspector = parts.processInspector();
        PipelineMetrics metrics = new PipelineMetrics(registry, settings.stageHistograms());
        this.metrics = metrics;
        this.knownImageExecs = new KnownImageExecs(parts.enforcement(), parts.classifier());
        ParkingLot<ExecInFlight> parking = new ParkingLot<>(settings.retryOffsetsNanos(), settings.parkingCapacity());
        InlineStage<ExecInFlight> report = new InlineStage<>("report",
                new ReportHandler(parts.publisher(), metrics, clock), clock, metrics);
        InlineStage<ExecInFlight> act = new InlineStage<>("act",
                new ActionHandler(parts.assembler(), parts.enforcement(), report), clock, metrics);
        InlineStage<ExecInFlight> policy = new InlineStage<>("policy",
                new PolicyHandler(parts.policy(), parts.assembler(), act, metrics), clock, metrics);
        Stage<ExecInFlight> enrich = new Stage<>("enrich", settings.stageQueueCapacity(),
                new EnrichmentHandler(parts.metadata(), parking, policy, metrics, clock), clock, metrics,
                List.of(policy, act, report));
        InlineStage<ExecInFlight> classify = new InlineStage<>("classify",
                new ClassificationHandler(parts.classifier(), parts.processInspector(), enrich, metrics,
                        knownImageExecs), clock, metrics);
        this.attribute = new Stage<>("attribute", settings.sourceQueueCapacity(), RESERVED_FOR_CANARIES,
                new AttributionHandler(parts.attributor(), parts.enforcement(), parts.processInspector(), classify,
                        metrics), clock, metrics,
                List.of(classify));
        this.queued = List.of(attribute, enrich);
        this.inline = List.of(classify, policy, act, report);
    }

    /**
     * What the exec source delivers into: execs that ran. Never blocks; false (the source counts a loss) when the
     * first queue is full. A BLOCK verdict on such an exec is reported as {@code BinaryDrift} with action
     * {@code block}: the policy wanted it blocked, but it ran (no guard, or the guard's deadline passed).
     */
    public ExecEventSink sink() {
        return new ExecEventSink() {
            @Override
            public boolean offer(ExecEvent event) {
                if (knownImageExecs.isImageExec(event)) {
                    metrics.imageFile.increment();
                    return true;
                }
                ExecInFlight.Arrival arrival = new ExecInFlight.Arrival(event, false);
                return neverDropped.test(event) ? attribute.offerReserved(arrival) : attribute.offer(arrival);
            }

            @Override
            public void observe(ExecEvent event) {
                processInspector.observe(event);
            }
        };
    }

    /**
     * Where the blocking guard (fanotify {@code FAN_OPEN_EXEC_PERM}) reports execs it denied, after answering the
     * kernel: each becomes a {@code BinaryDriftBlocked} alert. Same queue and guarantees as {@link #sink()}.
     */
    public ExecEventSink deniedSink() {
        return event -> attribute.offer(new ExecInFlight.Arrival(event, true));
    }

    /**
     * As {@link #deniedSink()}, with the classification the guard's decision used: the exec is not classified again.
     *
     * @return false (counted as a drop) when the first queue is full
     */
    public boolean offerDenied(ExecEvent event, Classification classification) {
        return attribute.offer(new ExecInFlight.Arrival(event, true, classification));
    }

    /**
     * Lets the exec source keep, in the kernel, the execs this pipeline would let skip it as known image files
     * ({@link KnownImageExecs}): each container root it learns is told to {@code keeping}, and what the source kept is
     * counted with the execs that stopped early ({@code reason="image_file_kept_in_kernel"}). Before {@link #start()}.
     */
    public void keepImageExecsIn(ImageExecKeeping keeping) {
        knownImageExecs.keepIn(keeping);
        metrics.keptInKernel(keeping);
    }

    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("pipeline already started");
        }
        started = true;
        queued.forEach(Stage::start);
    }

    /**
     * Drains the queued stages in order (each finishes its queue and the inline stages it hosts, the enrich stage
     * releases parked execs with what is known), then stops their threads. What is still queued at the deadline is dropped and counted. Stop the
     * source first.
     *
     * @return true when everything drained before the deadline
     */
    public synchronized boolean drainAndStop(Duration deadline) throws InterruptedException {
        long deadlineNanos = clock.nanoTime() + deadline.toNanos();
        boolean complete = true;
        for (Stage<?> stage : queued) {
            complete &= stage.drain(deadlineNanos);
        }
        return complete;
    }

    /**
     * Stages whose thread is not running: all of them before start and after stop, in between those on a thread that
     * died (a queued stage and the inline stages it hosts), in {@link #STAGE_NAMES} order.
     */
    public List<String> stoppedStages() {
        List<String> stopped = new ArrayList<>();
        queued.stream().filter(stage -> !stage.isRunning()).forEach(stage -> stopped.add(stage.name()));
        inline.stream().filter(stage -> !stage.host().isRunning()).forEach(stage -> stopped.add(stage.name()));
        stopped.sort(Comparator.comparingInt(STAGE_NAMES::indexOf));
        return List.copyOf(stopped);
    }

    /** Items waiting in all queues (for tests and diagnostics). */
    public int queued() {
        return queued.stream().mapToInt(Stage::depth).sum();
    }
}
