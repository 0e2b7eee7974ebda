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
 * @param driver        the storm this mode runs instead of the harness's own (e.g. a dropped binary's); empty for
 *                      the harness's
 */
public record StormMode(String name, Optional<Supplier<ExecSource>> source, boolean seesEveryExec,
        Optional<StormDriver> driver) {
    public StormMode {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(driver, "driver");
    }

    public StormMode(String name, Optional<Supplier<ExecSource>> source, boolean seesEveryExec) {
        this(name, source, seesEveryExec, Optional.empty());
    }

    public StormMode(String name, Supplier<ExecSource> source) {
        this(name, Optional.of(source), true);
    }

    public static StormMode noAgent() {
        return new StormMode("no-agent", Optional.empty(), true);
    }

    /** The same mode storming with {@code other} (its binary, its file identity). */
    public StormMode storming(String newName, StormDriver other) {
        return new StormMode(newName, source, seesEveryExec, Optional.of(other));
    }

    public boolean isBaseline() {
        return source.isEmpty();
    }
}
