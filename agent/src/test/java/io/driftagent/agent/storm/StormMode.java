package io.driftagent.agent.storm;

import io.driftagent.agent.source.ExecSource;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One way of running the storm: with no agent, or with a fresh {@link ExecSource} observing (or blocking). The
 * integrator adds modes, e.g. {@code new StormMode("fanotify-observe", FanotifyExecSource::new)}.
 *
 * @param name          a short label for the report
 * @param source        creates a new, unstarted source for one round; empty for the no-agent baseline
 * @param seesEveryExec the source reports every storm exec (an observer, a guard that decides every exec); false for
 *                      a guard that remembers allowances, whose "delivered" counts the decisions it still had to make
 */
public record StormMode(String name, Optional<Supplier<ExecSource>> source, boolean seesEveryExec) {
    public StormMode {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
    }

    public StormMode(String name, Supplier<ExecSource> source) {
        this(name, Optional.of(source), true);
    }

    public static StormMode noAgent() {
        return new StormMode("no-agent", Optional.empty(), true);
    }

    public boolean isBaseline() {
        return source.isEmpty();
    }
}
