package io.driftagent.agent.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;

/**
 * A counter whose series is registered at its first increment, for outcomes most nodes never see (a stage's
 * failures, a drift kind and action the policy never decides): each would otherwise be one more always-zero series
 * per node ({@code /metrics} holds at most 150 at default settings, docs/benchmarks.md "Metrics footprint").
 * Racing first increments are harmless: the registry hands both the same counter.
 */
final class FirstUseCounter {

    private final Counter.Builder builder;
    private final MeterRegistry registry;
    private volatile Counter counter;

    FirstUseCounter(Counter.Builder builder, MeterRegistry registry) {
        this.builder = Objects.requireNonNull(builder, "builder");
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    void increment() {
        Counter registered = counter;
        if (registered == null) {
            registered = builder.register(registry);
            counter = registered;
        }
        registered.increment();
    }

    /** The count so far (0 before the first increment, when no series exists). */
    double count() {
        Counter registered = counter;
        return registered == null ? 0 : registered.count();
    }
}
