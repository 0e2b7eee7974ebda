package io.driftagent.policy.eval;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.PolicyRule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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

    private CompiledPolicy(DriftPolicy source) {
        this.source = source;
        List<PolicyRule> ordered = new ArrayList<>(source.rules());
        ordered.sort(Comparator.comparingInt(PolicyRule::priority)); // List.sort is stable: ties keep file order
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
        return new CompiledPolicy(Objects.requireNonNull(policy, "policy"));
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
