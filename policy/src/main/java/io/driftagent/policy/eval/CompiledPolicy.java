package io.driftagent.policy.eval;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyRule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A drift policy ready for the hot path: rules in evaluation order (priority ascending, ties in file order),
 * everything precompiled. Immutable and thread-safe. {@link #evaluate} allocates nothing.
 */
public final class CompiledPolicy {
    /** The rule name verdicts carry when the default rule decided. */
    public static final String DEFAULT_RULE_NAME = "default";

    private final DriftPolicy source;
    private final CompiledRule[] rules;
    private final List<CompiledRule> ruleList;
    private final RuleIndex index;
    private final Verdict defaultVerdict;
    private final boolean mayBlock;

    private CompiledPolicy(DriftPolicy source, boolean sortByPriority) {
        this.source = source;
        List<PolicyRule> ordered = new ArrayList<>(source.rules());
        if (sortByPriority) {
            ordered.sort(Comparator.comparingInt(PolicyRule::priority)); // List.sort is stable: ties keep file order
        }
        this.rules = new CompiledRule[ordered.size()];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = new CompiledRule(ordered.get(i));
        }
        this.ruleList = List.of(rules);
        this.index = new RuleIndex(rules, ordered);
        this.defaultVerdict = new Verdict(CompiledRule.toDecision(source.defaultAction()), DEFAULT_RULE_NAME, null, true);
        this.mayBlock = source.defaultAction() == Action.BLOCK || ruleList.stream().anyMatch(r -> r.action() == Action.BLOCK);
    }

    /**
     * Compiles a validated policy. Globs and regexes are compiled here; an invalid one (possible only for a
     * policy built in code, the loader rejects them) throws {@link IllegalArgumentException}.
     */
    public static CompiledPolicy compile(DriftPolicy policy) {
        return new CompiledPolicy(Objects.requireNonNull(policy, "policy"), true);
    }

    /**
     * Compiles a policy whose rules are already in evaluation order: they are tried as listed, whatever their
     * priorities. For a policy merged from several sources (the policy file and DriftPolicy resources), where each
     * source's place in the order is decided by the source, and each rule keeps the priority its source gave it (the
     * one verdicts and alerts report).
     */
    public static CompiledPolicy compileInOrder(DriftPolicy policy) {
        return new CompiledPolicy(Objects.requireNonNull(policy, "policy"), false);
    }

    /** A policy with no rules: the default rule decides everything. For running without a policy file. */
    public static CompiledPolicy defaultOnly(Action defaultAction) {
        return compile(new DriftPolicy(List.of(), defaultAction));
    }

    /** The verdict for one drifted exec: the first applicable rule decides, else the default rule. */
    public Verdict evaluate(DriftFacts facts) {
        int first = index.firstApplicable(facts);
        return first == rules.length ? defaultVerdict : rules[first].decide(facts);
    }

    /**
     * What a blocking guard answers when this exec's decision is late, from its workload before its file is
     * classified: the {@code onTimeout} of the rule that would decide each drift kind in {@code possibleKinds} where
     * that rule blocks (allow lists are not looked at: whether the file is on one is not known yet). When several
     * block rules could decide, {@link OnTimeout#DENY} wins: the kind is not known yet, and the file's owner must not
     * be able to choose the laxer one by making the decision slow.
     *
     * @param workload      the exec's facts; its {@code kind}, {@code path} and {@code sha256} are not looked at
     * @param possibleKinds the drift kinds the file may turn out to be (IMAGE is ignored: never decided by a rule)
     */
    public TimeoutVerdict onTimeout(DriftFacts workload, Set<DriftKind> possibleKinds) {
        TimeoutVerdict answer = TimeoutVerdict.NOT_BLOCKABLE;
        for (DriftKind kind : possibleKinds) {
            if (!kind.isDrift()) {
                continue;
            }
            DriftFacts probe = new DriftFacts(workload.cloudProvider(), workload.cloudAccount(), workload.clusterName(),
                    workload.namespace(), workload.podName(), workload.podLabels(), workload.containerName(),
                    workload.imageName(), kind, workload.path(), null);
            int first = index.firstApplicable(probe);
            Action action = first == rules.length ? source.defaultAction() : rules[first].action();
            if (action != Action.BLOCK) {
                continue;
            }
            TimeoutVerdict candidate = first == rules.length
                    ? new TimeoutVerdict(source.defaultOnTimeout(), DEFAULT_RULE_NAME)
                    : new TimeoutVerdict(rules[first].onTimeout(), rules[first].name());
            if (answer.ruleName() == null || (candidate.denies() && !answer.denies())) {
                answer = candidate;
            }
        }
        return answer;
    }

    /**
     * The verdict with its reasons. Tries every rule in order (no index), so it also cross-checks {@link #evaluate};
     * slower (builds text), meant for people and tools.
     */
    public Explanation explain(DriftFacts facts) {
        List<Explanation.SkippedRule> skipped = new ArrayList<>();
        for (CompiledRule rule : rules) {
            String failure = rule.whyNotApplicable(facts);
            if (failure != null) {
                skipped.add(new Explanation.SkippedRule(rule.name(), rule.priority(), failure));
                continue;
            }
            Verdict verdict = rule.decide(facts);
            AllowListEntry allowedBy = rule.allowedBy(facts);
            String decision = rule + " applies (" + rule.whyApplicable(facts) + "); "
                    + (allowedBy != null
                    ? facts.path() + " is on its allow list (" + allowedBy + "): allowed"
                    : facts.path() + " is not on its allow list: " + rule.action().wireName());
            return new Explanation(verdict, Optional.of(rule), skipped, decision);
        }
        String decision = (rules.length == 0 ? "the policy has no rules" : "no rule applies")
                + ": the default rule decides " + source.defaultAction().wireName();
        return new Explanation(defaultVerdict, Optional.empty(), skipped, decision);
    }

    /** The rules in evaluation order. */
    public List<CompiledRule> rules() {
        return ruleList;
    }

    /** The default rule's action: what happens when no rule applies. */
    public Action defaultAction() {
        return source.defaultAction();
    }

    /** Whether anything can be blocked under this policy: some rule, or the default rule, has action {@code block}. */
    public boolean mayBlock() {
        return mayBlock;
    }

    /** The policy as written (rules in file order). */
    public DriftPolicy source() {
        return source;
    }

    @Override
    public String toString() {
        return "CompiledPolicy[" + rules.length + " rules, default " + source.defaultAction().wireName() + "]";
    }
}
