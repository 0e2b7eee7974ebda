package io.driftagent.policy.eval;

import io.driftagent.policy.model.MatchOperator;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.ResourceField;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the first applicable rule without trying rules that cannot apply. A rule's <em>guard</em> is its first
 * case-sensitive {@code equals} condition on a string field, or else its first case-sensitive {@code equals}
 * condition on pod labels. A rule with a guard is only tried when the exec's value (or label) is one of the guard's
 * values; those rules are found by hash lookups. Rules without a guard are tried in order. Each group is tried in
 * evaluation order and stops at the best position found so far, so the result is the earliest applicable rule: the
 * same as trying every rule in order. Allocation-free.
 */
final class RuleIndex {
    private final CompiledRule[] rules;
    /** Positions of rules without a guard, ascending. */
    private final int[] unguarded;
    private final FieldIndex[] fields;
    private final LabelIndex[] labels;

    private static final class FieldIndex {
        private final ResourceField field;
        /** value -> ascending positions of the rules whose guard is "field equals value". */
        private final Map<String, int[]> byValue;

        FieldIndex(ResourceField field, Map<String, int[]> byValue) {
            this.field = field;
            this.byValue = byValue;
        }
    }

    private static final class LabelIndex {
        private final String key;
        /** Rules whose guard needs only this label to be present. */
        private final int[] present;
        /** label value -> rules whose guard needs this label with that value. */
        private final Map<String, int[]> byValue;

        LabelIndex(String key, int[] present, Map<String, int[]> byValue) {
            this.key = key;
            this.present = present;
            this.byValue = byValue;
        }
    }

    /** {@code rules[i]} must be compiled from {@code ordered.get(i)}. */
    RuleIndex(CompiledRule[] rules, List<PolicyRule> ordered) {
        this.rules = rules;
        Map<ResourceField, Map<String, List<Integer>>> byField = new EnumMap<>(ResourceField.class);
        Map<String, List<Integer>> labelPresent = new LinkedHashMap<>();
        Map<String, Map<String, List<Integer>>> labelValues = new HashMap<>();
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
                    String key = equals < 0 ? selector : selector.substring(0, equals);
                    List<Integer> present = labelPresent.computeIfAbsent(key, k -> new ArrayList<>());
                    if (equals < 0) {
                        addPosition(present, position);
                    } else {
                        addPosition(labelValues.computeIfAbsent(key, k -> new HashMap<>())
                                .computeIfAbsent(selector.substring(equals + 1), v -> new ArrayList<>()), position);
                    }
                }
            } else {
                withoutGuard.add(position);
            }
        }
        this.unguarded = toArray(withoutGuard);
        this.fields = new FieldIndex[byField.size()];
        int i = 0;
        for (Map.Entry<ResourceField, Map<String, List<Integer>>> field : byField.entrySet()) {
            fields[i++] = new FieldIndex(field.getKey(), toArrays(field.getValue()));
        }
        this.labels = new LabelIndex[labelPresent.size()];
        i = 0;
        for (Map.Entry<String, List<Integer>> key : labelPresent.entrySet()) {
            labels[i++] = new LabelIndex(key.getKey(), toArray(key.getValue()),
                    toArrays(labelValues.getOrDefault(key.getKey(), Map.of())));
        }
    }

    /** The position of the first rule that applies, or {@code rules.length} when none does. */
    int firstApplicable(DriftFacts facts) {
        int first = firstApplicable(unguarded, rules.length, facts);
        for (int i = 0; i < fields.length; i++) {
            String value = FieldCondition.valueOf(facts, fields[i].field);
            if (value != null) {
                int[] candidates = fields[i].byValue.get(value);
                if (candidates != null) {
                    first = firstApplicable(candidates, first, facts);
                }
            }
        }
        if (labels.length > 0) {
            Map<String, String> podLabels = facts.podLabels();
            if (!podLabels.isEmpty()) {
                for (int i = 0; i < labels.length; i++) {
                    String value = podLabels.get(labels[i].key);
                    if (value != null) {
                        first = firstApplicable(labels[i].present, first, facts);
                        int[] candidates = labels[i].byValue.get(value);
                        if (candidates != null) {
                            first = firstApplicable(candidates, first, facts);
                        }
                    }
                }
            }
        }
        return first;
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

    /** Positions arrive in ascending order; a rule naming a value twice is listed once. */
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
}
