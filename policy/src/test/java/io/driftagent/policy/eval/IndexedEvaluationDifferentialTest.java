package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.CloudProvider;
import io.driftagent.policy.model.CloudScope;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.MatchOperator;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.ResourceField;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link CompiledPolicy#evaluate} skips rules through its equality index; {@link CompiledPolicy#explain} tries every
 * rule in order. On random policies and execs over a small vocabulary (so that rules often match) they must agree.
 */
class IndexedEvaluationDifferentialTest {
    private static final String[] WORDS = {"a", "b", "c", "shop", "kube-system", ""};

    @Test
    void indexedEvaluationAgreesWithTryingEveryRuleInOrder() {
        Random random = new Random(20260101L);
        int decidedByARule = 0;
        for (int round = 0; round < 400; round++) {
            CompiledPolicy policy = CompiledPolicy.compile(randomPolicy(random));
            for (int exec = 0; exec < 50; exec++) {
                DriftFacts facts = randomFacts(random);
                Verdict indexed = policy.evaluate(facts);
                assertThat(indexed).as("round %d exec %d: %s", round, exec, facts).isEqualTo(policy.explain(facts).verdict());
                if (!indexed.defaultRule()) {
                    decidedByARule++;
                }
            }
        }
        assertThat(decidedByARule).as("the vocabulary must make rules match often").isGreaterThan(5_000);
    }

    private static DriftPolicy randomPolicy(Random random) {
        List<PolicyRule> rules = new ArrayList<>();
        int count = 1 + random.nextInt(12);
        for (int i = 0; i < count; i++) {
            List<ResourceCondition> conditions = new ArrayList<>();
            int conditionCount = random.nextInt(3);
            for (int c = 0; c < conditionCount; c++) {
                ResourceField field = ResourceField.values()[random.nextInt(ResourceField.values().length)];
                MatchOperator operator = random.nextInt(3) == 0
                        ? MatchOperator.values()[random.nextInt(4)] : MatchOperator.EQUALS;
                List<String> values = new ArrayList<>();
                int valueCount = 1 + random.nextInt(3);
                for (int v = 0; v < valueCount; v++) {
                    String word = WORDS[random.nextInt(WORDS.length)];
                    values.add(field == ResourceField.POD_LABELS ? "k" + random.nextInt(2) + (random.nextBoolean() ? "=" + word : "") : word);
                }
                conditions.add(new ResourceCondition(field, operator, values, random.nextInt(4) == 0));
            }
            List<CloudScope> cloud = random.nextInt(4) == 0 ? List.of(CloudScope.anyAccount(CloudProvider.AZURE)) : List.of();
            Set<DriftKind> kinds = random.nextInt(4) == 0 ? EnumSet.of(DriftKind.ADDED) : Set.of();
            rules.add(new PolicyRule("r" + i, random.nextInt(5), "", Action.values()[random.nextInt(3)], cloud, conditions,
                    kinds, List.of()));
        }
        return new DriftPolicy(rules, Action.IGNORE);
    }

    private static DriftFacts randomFacts(Random random) {
        return new DriftFacts(random.nextBoolean() ? "azure" : "aws", "s", word(random), word(random), word(random),
                Map.of("k" + random.nextInt(2), WORDS[random.nextInt(WORDS.length)]), word(random), word(random),
                random.nextBoolean() ? DriftKind.ADDED : DriftKind.MOUNT, "/x", null);
    }

    private static String word(Random random) {
        int pick = random.nextInt(WORDS.length + 1);
        return pick == WORDS.length ? null : WORDS[pick];
    }
}
