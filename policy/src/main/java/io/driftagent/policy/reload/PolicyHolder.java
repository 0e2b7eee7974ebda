package io.driftagent.policy.reload;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy in force, swapped atomically on reload. Readers call {@link #current()} (one volatile read) and always
 * see one whole policy; a reload that fails validation keeps the last good policy and reports why.
 */
public final class PolicyHolder {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyHolder.class);

    private record Loaded(CompiledPolicy policy, Instant loadedAt) {
    }

    private final AtomicReference<Loaded> active;
    private final PolicyLoader loader;
    private final Clock clock;
    private final Object reloadLock = new Object();

    public PolicyHolder(CompiledPolicy initial, Clock clock) {
        this(initial, clock, new PolicyLoader());
    }

    public PolicyHolder(CompiledPolicy initial, Clock clock, PolicyLoader loader) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.loader = Objects.requireNonNull(loader, "loader");
        this.active = new AtomicReference<>(new Loaded(Objects.requireNonNull(initial, "initial"), clock.instant()));
    }

    public CompiledPolicy current() {
        return active.get().policy();
    }

    /** When the current policy was put in force. */
    public Instant loadedAt() {
        return active.get().loadedAt();
    }

    /** Loads {@code file}; if it is valid it replaces the current policy, otherwise the current one stays. */
    public ReloadOutcome reload(Path file) {
        synchronized (reloadLock) { // reloads are serialised so that outcomes report what they did, in order
            return apply(file.toString(), loader.load(file));
        }
    }

    /**
     * Loads a policy from the bytes a caller already read (and, e.g., hashed): what is loaded is exactly what the
     * caller saw, never a later version of the file. {@code sourceName} is used in problem locations.
     */
    public ReloadOutcome reload(String sourceName, byte[] content) {
        synchronized (reloadLock) {
            return apply(sourceName, loader.load(sourceName, content));
        }
    }

    /** Called with {@code reloadLock} held. */
    private ReloadOutcome apply(String source, PolicyLoadResult result) {
        if (result.policy().isPresent()) {
            Loaded loaded = new Loaded(result.policy().get(), clock.instant());
            active.set(loaded);
            LOG.info("drift policy {} loaded: {} rules, default {}, {} warnings", source,
                    loaded.policy().rules().size(), loaded.policy().defaultAction().wireName(), result.warnings().size());
            return new ReloadOutcome(true, loaded.policy(), loaded.loadedAt(), result.problems());
        }
        Loaded kept = active.get();
        LOG.warn("drift policy {} rejected ({} errors, first: {}); keeping the policy loaded at {}", source,
                result.errors().size(), result.errors().get(0), kept.loadedAt());
        return new ReloadOutcome(false, kept.policy(), kept.loadedAt(), result.problems());
    }
}
