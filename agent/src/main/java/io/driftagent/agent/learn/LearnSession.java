package io.driftagent.agent.learn;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.pipeline.AlertPublisher;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.learn.PolicySuggester;
import io.driftagent.policy.learn.SuggestScope;
import io.driftagent.policy.learn.Suggestion;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.json.JsonLinesSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learn mode (docs/policy.md, "Learn mode"): from {@link #start()} for the configured duration, the alerts of the
 * configured namespaces / workloads are written to the learn file instead of being emitted; at the end a suggested
 * policy ({@link PolicySuggester}, on the learn file and the policy then in force) is written and logged, and alerts
 * flow as usual again. A blocked exec's alert ({@code BinaryDriftBlocked}) is still emitted (the exec was denied;
 * hiding that would hide an enforcement) and also written to the learn file. An alert the learn file cannot take is
 * emitted, never lost. Counted in {@code drift_learn_alerts_total{outcome=kept|copied|failed}}.
 */
public final class LearnSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LearnSession.class);

    private final AgentConfig.Learn settings;
    private final Supplier<DriftPolicy> currentPolicy;
    private final Clock clock;
    private final Counter kept;
    private final Counter copied;
    private final Counter failed;
    private final SuggestScope scope;
    private final Object lock = new Object();
    private volatile Instant end;
    private volatile boolean finished;
    private JsonLinesSink learnFile;
    private ScheduledExecutorService timer;

    public LearnSession(AgentConfig.Learn settings, Supplier<DriftPolicy> currentPolicy, Clock clock, MeterRegistry registry) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (!settings.enabled()) {
            throw new IllegalArgumentException("learn mode names no namespace and no workload");
        }
        this.currentPolicy = Objects.requireNonNull(currentPolicy, "currentPolicy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.scope = new SuggestScope(settings.namespaces(), settings.workloads(), Set.of());
        this.kept = counter(registry, "kept", "written to the learn file instead of being emitted");
        this.copied = counter(registry, "copied", "blocked execs: written to the learn file and emitted");
        this.failed = counter(registry, "failed", "the learn file could not take them: emitted instead");
        Gauge.builder("drift.learn.active", this, s -> s.learning() ? 1 : 0)
                .description("1 while learn mode keeps alerts aside").register(registry);
    }

    private static Counter counter(MeterRegistry registry, String outcome, String description) {
        return Counter.builder("drift.learn.alerts").tag("outcome", outcome)
                .description("Alerts of learned workloads: " + description).register(registry);
    }

    /** Starts learning now; checks every second whether the period is over. */
    public void start() {
        startClock();
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "learn-mode");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::finishIfDue, 1, 1, TimeUnit.SECONDS);
    }

    /** Starts the learning period without a timer (the caller calls {@link #finishIfDue()}). */
    public void startClock() {
        end = clock.instant().plus(settings.duration());
        LOG.info("learn mode until {}: alerts of namespaces {} workloads {} go to {}, the suggested policy to {}",
                end, settings.namespaces(), settings.workloads(), settings.alertsFile(), settings.suggestionFile());
    }

    /** The hook where alerts are emitted: keeps learned workloads' alerts aside while learning. */
    public AlertPublisher publisherOver(AlertPublisher delegate) {
        Objects.requireNonNull(delegate, "delegate");
        return alert -> {
            if (!learns(alert)) {
                return delegate.publish(alert);
            }
            Boolean written = keepAside(alert);
            if (written == null) {
                return delegate.publish(alert); // the period ended meanwhile
            }
            if (!written) {
                failed.increment();
                return delegate.publish(alert);
            }
            if (alert.alertType() == Alert.AlertType.BinaryDriftBlocked) {
                copied.increment();
                return delegate.publish(alert);
            }
            kept.increment();
            return true;
        };
    }

    public boolean learning() {
        Instant until = end;
        return until != null && !finished && clock.instant().isBefore(until);
    }

    private boolean learns(Alert alert) {
        if (!learning()) {
            return false;
        }
        Alert.Pod pod = alert.pod();
        Alert.Container container = alert.container();
        return scope.includes(new DriftFacts(null, null, null, pod == null ? null : pod.namespace(), null,
                pod == null ? Map.of() : pod.labels(), container == null ? null : container.name(), null,
                DriftKind.ADDED, alert.drift().path(), null));
    }

    /** Writes the alert to the learn file: true written, false failed, null when learning is over. */
    private Boolean keepAside(Alert alert) {
        synchronized (lock) {
            if (!learning()) {
                return null;
            }
            try {
                if (learnFile == null) {
                    learnFile = JsonLinesSink.appendingTo(settings.alertsFile());
                }
                learnFile.publish(alert);
                return true;
            } catch (IOException | RuntimeException e) {
                LOG.warn("learn mode: cannot write alert {} to {}: {}; emitting it", alert.id(), settings.alertsFile(),
                        e.toString());
                return false;
            }
        }
    }

    /**
     * Ends learning once its period is over: writes and logs the suggested policy. Idempotent; returns the
     * suggestion when this call ended the period and it could be made.
     */
    public Optional<Suggestion> finishIfDue() {
        Instant until = end;
        if (until == null || finished || clock.instant().isBefore(until)) {
            return Optional.empty();
        }
        synchronized (lock) {
            if (finished) {
                return Optional.empty();
            }
            finished = true;
            closeFile();
        }
        try {
            AlertLog log = Files.exists(settings.alertsFile())
                    ? new AlertLogReader().read(settings.alertsFile())
                    : new AlertLog(List.of(), List.of());
            log.malformed().forEach(m -> LOG.warn("learn mode: {}:{}: skipped: {}", settings.alertsFile(), m.line(), m.reason()));
            Suggestion suggestion = new PolicySuggester().suggest(currentPolicy.get(), log.alerts(),
                    scope,
                    List.of("Suggested by drift-agent learn mode from " + settings.alertsFile() + " ("
                            + log.alerts().size() + " alert lines, " + log.malformed().size() + " malformed), learning"
                            + " namespaces " + settings.namespaces() + " workloads " + settings.workloads()
                            + " until " + until));
            SuggestionFile.write(settings.suggestionFile(), suggestion.yaml());
            LOG.info("learn mode over: {} alert lines learned, {} silenced by {} learned rules; suggested policy in {}:\n{}",
                    log.alerts().size(), suggestion.counts().silenced(), suggestion.learned().size(),
                    settings.suggestionFile(), suggestion.yaml());
            return Optional.of(suggestion);
        } catch (IOException | RuntimeException e) {
            LOG.error("learn mode over, but no suggested policy could be written to {}: {}; the learned alerts stay in {}"
                    + " (drift-agent policy suggest --alerts FILE makes one by hand)", settings.suggestionFile(),
                    e.toString(), settings.alertsFile());
            return Optional.empty();
        }
    }

    private void closeFile() {
        if (learnFile != null) {
            learnFile.close();
            learnFile = null;
        }
    }

    /** Stops the timer; an unfinished period writes no suggestion (its alerts stay in the learn file). */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        synchronized (lock) {
            closeFile();
        }
    }
}
