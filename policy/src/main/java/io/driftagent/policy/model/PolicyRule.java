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
 */
public record PolicyRule(
        String name,
        int priority,
        String description,
        Action action,
        List<CloudScope> cloudScope,
        List<ResourceCondition> resourceScope,
        Set<DriftKind> driftKinds,
        List<AllowListEntry> allowList,
        OnTimeout onTimeout) {

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
        if (onTimeout == OnTimeout.DENY && action != Action.BLOCK) {
            throw new IllegalArgumentException("onTimeout deny needs action block, not " + action.wireName());
        }
    }

    /** A rule with the default {@code onTimeout} of its action. */
    public PolicyRule(String name, int priority, String description, Action action, List<CloudScope> cloudScope,
                      List<ResourceCondition> resourceScope, Set<DriftKind> driftKinds, List<AllowListEntry> allowList) {
        this(name, priority, description, action, cloudScope, resourceScope, driftKinds, allowList, null);
    }

    /** Whether this rule matches every drifted exec (no scope narrows it); every later rule is then unreachable. */
    public boolean isCatchAll() {
        return cloudScope.isEmpty() && resourceScope.isEmpty() && (driftKinds.isEmpty() || coversEveryDriftKind());
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
