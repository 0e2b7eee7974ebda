package io.driftagent.policy.eval;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.Trigger;
import java.util.List;

/**
 * One rule ready for evaluation: scopes precompiled, its two possible verdicts built once. Immutable and
 * thread-safe; {@link #applies} and {@link #decide} allocate nothing.
 */
public final class CompiledRule {
    private final PolicyRule source;
    /** Bit {@code 1 << kind.ordinal()} per accepted drift kind; every bit set when the rule does not narrow. */
    private final int driftKindMask;
    /** Bit {@code 1 << trigger.ordinal()} per accepted trigger; every bit set when the rule does not narrow. */
    private final int triggerMask;
    /** Null when the rule has no cloud scope. */
    private final CloudMatcher cloud;
    private final CompiledCondition[] conditions;
    private final CompiledAllowList allowList;
    private final Verdict actionVerdict;
    private final Verdict allowedVerdict;

    CompiledRule(PolicyRule source) {
        this.source = source;
        int mask = 0;
        for (DriftKind kind : source.driftKinds().isEmpty() ? List.of(DriftKind.values()) : source.driftKinds()) {
            mask |= 1 << kind.ordinal();
        }
        this.driftKindMask = mask;
        int triggers = 0;
        for (Trigger trigger : source.triggers().isEmpty() ? List.of(Trigger.values()) : source.triggers()) {
            triggers |= 1 << trigger.ordinal();
        }
        this.triggerMask = triggers;
        this.cloud = source.cloudScope().isEmpty() ? null : new CloudMatcher(source.cloudScope());
        List<ResourceCondition> scope = source.resourceScope();
        this.conditions = new CompiledCondition[scope.size()];
        for (int i = 0; i < conditions.length; i++) {
            conditions[i] = CompiledCondition.compile(scope.get(i));
        }
        this.allowList = new CompiledAllowList(source.allowList());
        this.actionVerdict = new Verdict(toDecision(source.action()), source.name(), source.priority(), false);
        this.allowedVerdict = new Verdict(Verdict.Decision.ALLOWED, source.name(), source.priority(), false);
    }

    static Verdict.Decision toDecision(Action action) {
        switch (action) {
            case ALERT:
                return Verdict.Decision.ALERT;
            case BLOCK:
                return Verdict.Decision.BLOCK;
            case IGNORE:
                return Verdict.Decision.IGNORE;
            default:
                throw new IllegalArgumentException("action " + action);
        }
    }

    public String name() {
        return source.name();
    }

    public int priority() {
        return source.priority();
    }

    public Action action() {
        return source.action();
    }

    /** What a blocking guard answers when this rule's decision is late (meaningful for a block rule only). */
    public OnTimeout onTimeout() {
        return source.onTimeout();
    }

    public String description() {
        return source.description();
    }

    /** The rule as written in the policy file. */
    public PolicyRule source() {
        return source;
    }

    /** Whether this rule's drift kinds, cloud scope and resource scope all match (it would decide). */
    public boolean applies(DriftFacts facts) {
        if ((driftKindMask & (1 << facts.kind().ordinal())) == 0) {
            return false;
        }
        if ((triggerMask & (1 << facts.trigger().ordinal())) == 0) {
            return false;
        }
        if (cloud != null && !cloud.matches(facts.cloudProvider(), facts.cloudAccount())) {
            return false;
        }
        for (int i = 0; i < conditions.length; i++) {
            if (!conditions[i].matches(facts)) {
                return false;
            }
        }
        return true;
    }

    /** The verdict of this rule for facts it applies to: allowed when the file is on its allow list. */
    Verdict decide(DriftFacts facts) {
        return allowList.find(facts.path(), facts.sha256()) != null ? allowedVerdict : actionVerdict;
    }

    /** Why this rule does not apply (the first failing check), or null when it applies. */
    String whyNotApplicable(DriftFacts facts) {
        if ((driftKindMask & (1 << facts.kind().ordinal())) == 0) {
            return "drift kind " + facts.kind() + " is not in driftKinds " + source.driftKinds();
        }
        if ((triggerMask & (1 << facts.trigger().ordinal())) == 0) {
            return "trigger " + facts.trigger().wireName() + " is not in triggers " + wireNames(source.triggers());
        }
        if (cloud != null && !cloud.matches(facts.cloudProvider(), facts.cloudAccount())) {
            return "cloud " + describeCloud(facts) + " is not in cloudScope " + cloud.describe();
        }
        for (int i = 0; i < conditions.length; i++) {
            if (!conditions[i].matches(facts)) {
                return "resourceScope[" + i + "] (" + conditions[i].source().describe() + ") does not match: "
                        + conditions[i].describeFact(facts);
            }
        }
        return null;
    }

    /** Why this rule applies, condition by condition. */
    String whyApplicable(DriftFacts facts) {
        StringBuilder why = new StringBuilder();
        why.append(source.driftKinds().isEmpty()
                ? "every drift kind"
                : "drift kind " + facts.kind() + " in driftKinds " + source.driftKinds());
        if (!source.triggers().isEmpty()) {
            why.append(", trigger ").append(facts.trigger().wireName()).append(" in triggers ")
                    .append(wireNames(source.triggers()));
        }
        why.append(cloud == null ? ", every cloud" : ", cloud " + describeCloud(facts) + " in cloudScope " + cloud.describe());
        if (conditions.length == 0) {
            why.append(", every workload");
        }
        for (int i = 0; i < conditions.length; i++) {
            why.append(", resourceScope[").append(i).append("] (").append(conditions[i].source().describe())
                    .append(") matches ").append(conditions[i].describeFact(facts));
        }
        return why.toString();
    }

    /** The allow-list entry that holds the executed file, or null. */
    AllowListEntry allowedBy(DriftFacts facts) {
        return allowList.find(facts.path(), facts.sha256());
    }

    private static List<String> wireNames(java.util.Set<Trigger> triggers) {
        return triggers.stream().map(Trigger::wireName).toList();
    }

    private static String describeCloud(DriftFacts facts) {
        if (facts.cloudProvider() == null) {
            return "unknown";
        }
        return facts.cloudProvider() + "/" + (facts.cloudAccount() == null ? "(unknown account)" : facts.cloudAccount());
    }

    @Override
    public String toString() {
        return "rule '" + name() + "' (priority " + priority() + ")";
    }
}
