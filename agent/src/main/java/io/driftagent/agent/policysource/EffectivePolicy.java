package io.driftagent.agent.policysource;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.model.DriftPolicy;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy in force: the policy file's last good version merged with the last good version of each DriftPolicy
 * resource ({@link PolicyComposer}). Readers call {@link #current()} (one volatile read) and always see one whole
 * policy; every change recomposes and swaps it atomically. A source that is not valid never reaches this class: the
 * file watcher and the resource watcher hand over valid policies only, so a bad version leaves the last good one.
 */
public final class EffectivePolicy {
    private static final Logger LOG = LoggerFactory.getLogger(EffectivePolicy.class);

    private final Object lock = new Object();
    private final Map<String, ResourcePolicy> resources = new TreeMap<>();
    private final AtomicReference<CompiledPolicy> current = new AtomicReference<>();
    private Optional<DriftPolicy> file;

    /** @param file the file's policy (or its stand-in before the first load); empty when there is no policy file */
    public EffectivePolicy(Optional<DriftPolicy> file) {
        this.file = Objects.requireNonNull(file, "file");
        current.set(PolicyComposer.compose(file, java.util.List.of()));
    }

    public CompiledPolicy current() {
        return current.get();
    }

    /** A new good version of the policy file. */
    public void fileChanged(DriftPolicy policy) {
        synchronized (lock) {
            file = Optional.of(Objects.requireNonNull(policy, "policy"));
            recompose("policy file");
        }
    }

    /** A new good version of a resource (or a resource seen for the first time). */
    public void resourceChanged(ResourcePolicy resource) {
        synchronized (lock) {
            resources.put(resource.name(), resource);
            recompose(ResourcePolicyReader.sourceName(resource.name()) + " generation " + resource.generation());
        }
    }

    /** The resource was deleted: its rules leave the policy. */
    public void resourceRemoved(String name) {
        synchronized (lock) {
            if (resources.remove(name) != null) {
                recompose(ResourcePolicyReader.sourceName(name) + " deleted");
            }
        }
    }

    /** How many resources take part in the policy in force. */
    public int resourceCount() {
        synchronized (lock) {
            return resources.size();
        }
    }

    /** Called with {@code lock} held. */
    private void recompose(String why) {
        CompiledPolicy composed = PolicyComposer.compose(file, resources.values());
        current.set(composed);
        LOG.info("drift policy in force after {}: {} rules from the {} and {} resources, default {}", why,
                composed.rules().size(), file.isPresent() ? "policy file" : "built-in default", resources.size(),
                composed.defaultAction().wireName());
    }
}
