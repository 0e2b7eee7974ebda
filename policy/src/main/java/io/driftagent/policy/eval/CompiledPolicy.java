package io.driftagent.policy.eval;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.MatchOperator;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.ResourceField;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    private final Verdict defaultVerdict;
    /** Positions (in {@link #rules}) of rules without an equality guard, ascending. */
    private final int[] unguarded;
    /** Per field: value -> ascending positions of the rules whose guard is "field equals value". */
    private final EqualityIndex[] indexes;

    /**
     * Rules whose first case-sensitive {@code equals} condition on a string field (their guard) cannot hold for an
     * exec are never looked at: the exec's value selects the few rules whose guard it satisfies. The result is the
     * same as trying every rule in order (the earliest applicable rule among all groups wins).
     */
    private static final class EqualityIndex {
        private final ResourceField field;
        private final Map<String, int[]> positions;

        EqualityIndex(ResourceField field, Map<String, int[]> positions) {
            this.field = field;
            this.positions = positions;
        }
    }

    private CompiledPolicy(DriftPolicy source) {
        this.source = source;
        List<PolicyRule> ordered = new ArrayList<>(source.rules());
        ordered.sort(Comparator.comparingInt(PolicyRule::priority)); // List.sort is stable: ties keep file order
        this.rules = new CompiledRule[ordered.size()];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = new CompiledRule(ordered.get(i));
        }
        this.ruleList = List.of(rules);
        Map<ResourceField, Map<String, List<Integer>>> byField = new EnumMap<>(ResourceField.class);
        List<Integer> withoutGuard = new ArrayList<>();
        for (int position = 0; position < rules.length; position++) {
            ResourceCondition guard = equalityGuard(ordered.get(position));
            if (guard == null) {
                withoutGuard.add(position);
                continue;
            }
            Map<String, List<Integer>> byValue = byField.computeIfAbsent(guard.field(), f -> new HashMap<>());
            for (String value : guard.values()) {
                List<Integer> positions = byValue.computeIfAbsent(value, v -> new ArrayList<>());
                if (positions.isEmpty() || positions.get(positions.size() - 1) != position) {
                    positions.add(position);
                }
            }
        }
        this.unguarded = toArray(withoutGuard);
        this.indexes = new EqualityIndex[byField.size()];
        int i = 0;
        for (Map.Entry<ResourceField, Map<String, List<Integer>>> field : byField.entrySet()) {
            Map<String, int[]> positions = new HashMap<>();
            field.getValue().forEach((value, list) -> positions.put(value, toArray(list)));
            indexes[i++] = new EqualityIndex(field.getKey(), positions);
        }
        this.defaultVerdict = new Verdict(CompiledRule.toDecision(source.defaultAction()), DEFAULT_RULE_NAME, null, true);
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

    private static ResourceCondition equalityGuard(PolicyRule rule) {
        for (ResourceCondition condition : rule.resourceScope()) {
            if (condition.operator() == MatchOperator.EQUALS && !condition.ignoreCase()
                    && condition.field() != ResourceField.POD_LABELS) {
                return condition;
            }
        }
        return null;
    }

    private static int[] toArray(List<Integer> positions) {
        int[] array = new int[positions.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = positions.get(i);
        }
        return array;
    }

    /** The verdict for one drifted exec: the first applicable rule decides, else the default rule. */
    public Verdict evaluate(DriftFacts facts) {
        CompiledRule[] ordered = rules;
        int first = ordered.length;
        first = firstApplicable(unguarded, first, facts);
        for (int i = 0; i < indexes.length; i++) {
            String value = FieldCondition.valueOf(facts, indexes[i].field);
            if (value != null) {
                int[] candidates = indexes[i].positions.get(value);
                if (candidates != null) {
                    first = firstApplicable(candidates, first, facts);
                }
            }
        }
        return first == ordered.length ? defaultVerdict : ordered[first].decide(facts);
    }

    /** The first position among {@code candidates} (ascending) before {@code bound} whose rule applies, else bound. */
    private int firstApplicable(int[] candidates, int bound, DriftFacts facts) {
        for (int i = 0; i < candidates.length; i++) {
            int position = candidates[i];
            if (position >= bound) {
                return bound;
            }
            if (rules[position].applies(facts)) {
                return position;
            }
        }
        return bound;
    }

    /** The verdict with its reasons; slower than {@link #evaluate} (builds text), meant for people and tools. */
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

    /** The policy as written (rules in file order). */
    public DriftPolicy source() {
        return source;
    }

    @Override
    public String toString() {
        return "CompiledPolicy[" + rules.length + " rules, default " + source.defaultAction().wireName() + "]";
    }
}
