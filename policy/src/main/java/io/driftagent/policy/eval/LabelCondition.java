package io.driftagent.policy.eval;

import io.driftagent.policy.model.ResourceCondition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A condition on pod labels. {@code key=value} applies the operator to that label's value; {@code key} alone only
 * requires the label to be present. Keys are always compared exactly; ignoreCase applies to label values.
 */
final class LabelCondition extends CompiledCondition {
    private final String[] keys;
    /** Null where only the key's presence is required. */
    private final ValueMatcher[] valueMatchers;

    LabelCondition(ResourceCondition condition) {
        super(condition);
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        List<String> presenceOnly = new ArrayList<>();
        for (String selector : condition.values()) {
            int equals = selector.indexOf('=');
            if (equals < 0) {
                presenceOnly.add(selector);
            } else {
                byKey.computeIfAbsent(selector.substring(0, equals), k -> new ArrayList<>())
                        .add(selector.substring(equals + 1));
            }
        }
        for (String key : presenceOnly) {
            byKey.put(key, null);
        }
        keys = new String[byKey.size()];
        valueMatchers = new ValueMatcher[byKey.size()];
        int i = 0;
        for (Map.Entry<String, List<String>> entry : byKey.entrySet()) {
            keys[i] = entry.getKey();
            valueMatchers[i] = entry.getValue() == null
                    ? null
                    : ValueMatcher.of(condition.operator(), entry.getValue(), condition.ignoreCase());
            i++;
        }
    }

    @Override
    boolean matches(DriftFacts facts) {
        Map<String, String> labels = facts.podLabels();
        for (int i = 0; i < keys.length; i++) {
            String value = labels.get(keys[i]);
            if (value != null && (valueMatchers[i] == null || valueMatchers[i].matches(value))) {
                return true;
            }
        }
        return false;
    }

    @Override
    String describeFact(DriftFacts facts) {
        return facts.podLabels().isEmpty() ? "pod labels are unknown or empty" : "pod labels " + new TreeMap<>(facts.podLabels());
    }
}
