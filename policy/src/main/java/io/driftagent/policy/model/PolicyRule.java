package io.driftagent.policy.model;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One rule of a drift policy, as written (validated, not compiled).
 *
 * @param driftKinds the kinds this rule applies to; empty means every drift kind
 * @param cloudScope empty means every cloud
 * @param resourceScope empty means every workload; all conditions must hold
 * @param onTimeout  what a blocking guard answers when this block rule's decision is late; null means the
 *                   default ({@link OnTimeout#defaultFor}: deny for a block rule). Only a block rule may say
 *                   {@link OnTimeout#DENY}: no other action ever denies an exec.
 * @param triggers   what made the drifted file run (exec, library load) for the rule to apply; empty means both
 */
public record PolicyRule(
        @PolicyKey(required = true, description = "Unique rule name, reported in alerts and verdicts.")
        String name,
        @PolicyKey(required = true, description = "Evaluation order: lowest first; ties keep the written order.")
        int priority,
        @PolicyKey(description = "Free text for people.")
        String description,
        @PolicyKey(required = true, description = "What the rule does with a drifted exec it decides.")
        Action action,
        @PolicyKey(description = "Clouds (and accounts) the rule applies to; absent: every cloud.")
        List<CloudScope> cloudScope,
        @PolicyKey(description = "Workload conditions that must all hold; absent: every workload.")
        List<ResourceCondition> resourceScope,
        @PolicyKey(description = "Drift kinds the rule applies to; absent: every kind.")
        Set<DriftKind> driftKinds,
        @PolicyKey(description = "Executed files this rule does not treat as drift: an absolute path,"
                + " 'glob:<glob>', 'name:<basename>' or 'sha256:<64 hex digits>'.")
        List<AllowListEntry> allowList,
        @PolicyKey(description = "Only with action block: deny (default) or allow an exec whose decision is late.")
        OnTimeout onTimeout,
        @PolicyKey(description = "What made the drifted file run for the rule to apply: exec (it was executed) or"
                + " library (it was loaded as a shared library: LD_PRELOAD, dlopen); absent: both.")
        Set<Trigger> triggers) {

    public PolicyRule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(action, "action");
        description = description == null ? "" : description;
        cloudScope = List.copyOf(cloudScope);
        resourceScope = List.copyOf(resourceScope);
        // an EnumSet keeps the declaration order in messages and explanations
        driftKinds = driftKinds.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(driftKinds));
        if (driftKinds.contains(DriftKind.IMAGE)) {
            throw new IllegalArgumentException("IMAGE is not drift and never reaches the policy");
        }
        allowList = List.copyOf(allowList);
        onTimeout = onTimeout == null ? OnTimeout.defaultFor(action) : onTimeout;
        triggers = triggers == null || triggers.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(triggers));
        if (onTimeout == OnTimeout.DENY && action != Action.BLOCK) {
            throw new IllegalArgumentException("onTimeout deny needs action block, not " + action.wireName());
        }
    }

    /** A rule for every trigger (exec and library load). */
    public PolicyRule(String name, int priority, String description, Action action, List<CloudScope> cloudScope,
                      List<ResourceCondition> resourceScope, Set<DriftKind> driftKinds, List<AllowListEntry> allowList,
                      OnTimeout onTimeout) {
        this(name, priority, description, action, cloudScope, resourceScope, driftKinds, allowList, onTimeout, Set.of());
    }

    /** A rule with the default {@code onTimeout} of its action. */
    public PolicyRule(String name, int priority, String description, Action action, List<CloudScope> cloudScope,
                      List<ResourceCondition> resourceScope, Set<DriftKind> driftKinds, List<AllowListEntry> allowList) {
        this(name, priority, description, action, cloudScope, resourceScope, driftKinds, allowList, null);
    }

    /** Whether this rule matches every drifted exec (no scope narrows it); every later rule is then unreachable. */
    public boolean isCatchAll() {
        return cloudScope.isEmpty() && resourceScope.isEmpty() && (driftKinds.isEmpty() || coversEveryDriftKind())
                && (triggers.isEmpty() || triggers.size() == Trigger.values().length);
    }

    private boolean coversEveryDriftKind() {
        for (DriftKind kind : DriftKind.values()) {
            if (kind.isDrift() && !driftKinds.contains(kind)) {
                return false;
            }
        }
        return true;
    }
}
