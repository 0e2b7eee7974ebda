package io.driftagent.reporter.metrics;

import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The agent's meters, named with dots in code and exposed in the Prometheus text format by {@link #scrape()}.
 * Tags are low-cardinality only: source, kind, action, type, reason, stage, result.
 *
 * <p>Exposed names (Prometheus): {@code drift_execs_observed_total{source}},
 * {@code drift_verdicts_total{kind,action}}, {@code drift_alerts_total{type}}, {@code drift_events_lost_total{reason}},
 * {@code drift_queue_depth{stage}}, {@code drift_stage_latency_seconds{stage}} (histogram),
 * {@code drift_exec_to_alert_latency_seconds} (histogram), {@code drift_policy_reloads_total{result}},
 * {@code drift_image_index_images}, {@code drift_image_index_bytes}, {@code drift_informer_synced}. Meters the
 * dispatcher, sinks and deduplicator register on {@link #registry()} appear in the same scrape.
 *
 * <p>Counter lookups by tag are cached, so the per-exec calls are a map lookup and an add.
 */
public final class DriftMetrics {

    /** Latency buckets: fine below 10 ms (the exec-to-alert target), coarse above. */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1),
        Duration.ofSeconds(5)};

    private final PrometheusMeterRegistry registry;
    private final Map<String, Counter> execsBySource = new ConcurrentHashMap<>();
    private final Map<String, Counter> verdicts = new ConcurrentHashMap<>();
    private final Map<String, Counter> lostByReason = new ConcurrentHashMap<>();
    private final Map<String, Timer> stageTimers = new ConcurrentHashMap<>();
    private final Map<Alert.AlertType, Counter> alertsByType = new EnumMap<>(Alert.AlertType.class);
    // registered on first use only: in the agent the pipeline and the policy watcher own these names, and two
    // registrations of one Prometheus name with different tags would make one of them fail
    private final Map<String, Counter> policyReloads = new ConcurrentHashMap<>();
    private volatile Timer execToAlert;

    public DriftMetrics(PrometheusMeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        for (Alert.AlertType type : Alert.AlertType.values()) {
            alertsByType.put(type, Counter.builder("drift.alerts").description("Alerts emitted, by type")
                    .tag("type", type.name()).register(registry));
        }
    }

    /** Metrics on a fresh Prometheus registry. */
    public static DriftMetrics create() {
        return new DriftMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** The registry to hand to the dispatcher, sinks and deduplicator so their meters are scraped too. */
    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition (format 0.0.4) of every meter in the registry. */
    public String scrape() {
        return registry.scrape();
    }

    /** The HTTP Content-Type of {@link #scrape()}. */
    public static String contentType() {
        return "text/plain; version=0.0.4; charset=utf-8";
    }

    /** One exec event taken from a source (ebpf, fanotify). */
    public void execObserved(String source) {
        execsBySource.computeIfAbsent(source, s -> Counter.builder("drift.execs.observed")
                .description("Exec events observed, by source").tag("source", s).register(registry)).increment();
    }

    /** One classification + policy outcome: kind is a DriftKind name, action alert|block|ignore. */
    public void verdict(String kind, String action) {
        verdicts.computeIfAbsent(kind + '\u0000' + action, k -> Counter.builder("drift.verdicts")
                .description("Drift verdicts, by kind and action").tag("kind", kind).tag("action", action)
                .register(registry)).increment();
    }

    public void alertEmitted(Alert.AlertType type) {
        alertEmitted(type, 1);
    }

    /** {@code occurrences} alerts of one type (a deduplication summary stands for several). */
    public void alertEmitted(Alert.AlertType type, long occurrences) {
        alertsByType.get(type).increment(occurrences);
    }

    /** Events lost before classification (ring buffer overflow, queue full, ...). */
    public void eventsLost(String reason, long count) {
        lostByReason.computeIfAbsent(reason, r -> Counter.builder("drift.events.lost")
                .description("Exec events lost, by reason").tag("reason", r).register(registry)).increment(count);
    }

    /** Publishes a stage's queue depth as {@code drift.queue.depth{stage}}; the supplier is polled at scrape. */
    public void registerQueue(String stage, Supplier<Number> depth) {
        Objects.requireNonNull(depth, "depth");
        Gauge.builder("drift.queue.depth", depth).description("Items waiting in a pipeline stage")
                .tag("stage", stage).register(registry);
    }

    /** The latency timer of one pipeline stage; cache it on the hot path. */
    public Timer stageTimer(String stage) {
        return stageTimers.computeIfAbsent(stage, s -> latencyTimer("drift.stage.latency",
                "Time spent in one pipeline stage").tag("stage", s).register(registry));
    }

    public void recordStage(String stage, long nanos) {
        stageTimer(stage).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void recordExecToAlert(long nanos) {
        execToAlertTimer().record(nanos, TimeUnit.NANOSECONDS);
    }

    public Timer execToAlertTimer() {
        Timer timer = execToAlert;
        if (timer == null) {
            timer = latencyTimer("drift.exec.to.alert.latency",
                    "From the exec (kernel event) to the alert handed to the sinks").register(registry);
            execToAlert = timer;
        }
        return timer;
    }

    public void policyReloaded() {
        policyReload("success").increment();
    }

    public void policyReloadFailed() {
        policyReload("failure").increment();
    }

    private Counter policyReload(String result) {
        return policyReloads.computeIfAbsent(result, r -> Counter.builder("drift.policy.reloads")
                .description("Policy reloads, by result").tag("result", r).register(registry));
    }

    /** The image file index: number of indexed images and their memory in bytes, polled at scrape. */
    public void registerImageIndex(Supplier<Number> images, Supplier<Number> bytes) {
        Gauge.builder("drift.image.index.images", images).description("Images held in the file index")
                .register(registry);
        Gauge.builder("drift.image.index", bytes).description("Memory held by the image file index")
                .baseUnit("bytes").register(registry);
    }

    /** 1 while the pod informer is synced, 0 otherwise. */
    public void registerInformerSynced(BooleanSupplier synced) {
        Objects.requireNonNull(synced, "synced");
        Gauge.builder("drift.informer.synced", () -> synced.getAsBoolean() ? 1 : 0)
                .description("1 when the pod informer has synced, else 0").register(registry);
    }

    private static Timer.Builder latencyTimer(String name, String description) {
        // buckets, not client-side percentiles: Prometheus aggregates buckets across nodes (histogram_quantile)
        return Timer.builder(name).description(description).serviceLevelObjectives(LATENCY_BUCKETS);
    }
}
