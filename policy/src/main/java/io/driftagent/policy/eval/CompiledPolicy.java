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
import java.util.LinkedHashMap;
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
    /** Per label key named by a label guard: the rules that need the label present, or present with a value. */
    private final LabelIndex[] labelIndexes;

    /**
     * Rules whose guard cannot hold for an exec are never looked at: the exec's values select the few rules whose
     * guard they satisfy. A rule's guard is its first case-sensitive {@code equals} condition on a string field, or
     * else its first case-sensitive {@code equals} condition on pod labels. The result is the same as trying every
     * rule in order: each group is tried in order and the earliest applicable rule among all groups wins.
     */
    private static final class LabelIndex {
        private final String key;
        private final int[] present;
        private final Map<String, int[]> byValue;

        LabelIndex(String key, int[] present, Map<String, int[]> byValue) {
            this.key = key;
            this.present = present;
            this.byValue = byValue;
        }
    }

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
        Map<String, List<Integer>> labelPresent = new LinkedHashMap<>();
        Map<String, Map<String, List<Integer>>> labelValues = new LinkedHashMap<>();
        List<Integer> withoutGuard = new ArrayList<>();
        for (int position = 0; position < rules.length; position++) {
            PolicyRule rule = ordered.get(position);
            ResourceCondition fieldGuard = guard(rule, false);
            ResourceCondition labelGuard = fieldGuard == null ? guard(rule, true) : null;
            if (fieldGuard != null) {
                Map<String, List<Integer>> byValue = byField.computeIfAbsent(fieldGuard.field(), f -> new HashMap<>());
                for (String value : fieldGuard.values()) {
                    addPosition(byValue.computeIfAbsent(value, v -> new ArrayList<>()), position);
                }
            } else if (labelGuard != null) {
                for (String selector : labelGuard.values()) {
                    int equals = selector.indexOf('=');
                    if (equals < 0) {
                        addPosition(labelPresent.computeIfAbsent(selector, k -> new ArrayList<>()), position);
                    } else {
                        labelPresent.computeIfAbsent(selector.substring(0, equals), k -> new ArrayList<>());
                        addPosition(labelValues.computeIfAbsent(selector.substring(0, equals), k -> new HashMap<>())
                                .computeIfAbsent(selector.substring(equals + 1), v -> new ArrayList<>()), position);
                    }
                }
            } else {
                withoutGuard.add(position);
            }
        }
        this.unguarded = toArray(withoutGuard);
        this.indexes = new EqualityIndex[byField.size()];
        int i = 0;
        for (Map.Entry<ResourceField, Map<String, List<Integer>>> field : byField.entrySet()) {
            indexes[i++] = new EqualityIndex(field.getKey(), toArrays(field.getValue()));
        }
        this.labelIndexes = new LabelIndex[labelPresent.size()];
        i = 0;
        for (Map.Entry<String, List<Integer>> key : labelPresent.entrySet()) {
            labelIndexes[i++] = new LabelIndex(key.getKey(), toArray(key.getValue()),
                    toArrays(labelValues.getOrDefault(key.getKey(), Map.of())));
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

    /** The rule's first case-sensitive equals condition on pod labels ({@code labels}) or on another field. */
    private static ResourceCondition guard(PolicyRule rule, boolean labels) {
        for (ResourceCondition condition : rule.resourceScope()) {
            if (condition.operator() == MatchOperator.EQUALS && !condition.ignoreCase()
                    && (condition.field() == ResourceField.POD_LABELS) == labels) {
                return condition;
            }
        }
        return null;
    }

    /** Positions are added in ascending order; a rule listing a value twice is listed once. */
    private static void addPosition(List<Integer> positions, int position) {
        if (positions.isEmpty() || positions.get(positions.size() - 1) != position) {
            positions.add(position);
        }
    }

    private static Map<String, int[]> toArrays(Map<String, List<Integer>> lists) {
        Map<String, int[]> arrays = new HashMap<>();
        lists.forEach((value, list) -> arrays.put(value, toArray(list)));
        return arrays;
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
        if (labelIndexes.length > 0) {
            Map<String, String> labels = facts.podLabels();
            if (!labels.isEmpty()) {
                for (int i = 0; i < labelIndexes.length; i++) {
                    LabelIndex index = labelIndexes[i];
                    String value = labels.get(index.key);
                    if (value != null) {
                        first = firstApplicable(index.present, first, facts);
                        int[] candidates = index.byValue.get(value);
                        if (candidates != null) {
                            first = firstApplicable(candidates, first, facts);
                        }
                    }
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
