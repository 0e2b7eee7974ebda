package io.driftagent.agent.policysource;

import static io.driftagent.agent.policysource.Policies.file;
import static io.driftagent.agent.policysource.Policies.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.CompiledRule;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftPolicy;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The merge of the policy file and DriftPolicy resources, as docs/policy.md states it. */
class PolicyComposerTest {
    private static final DriftPolicy FILE = file("""
            rules:
              - {name: file-shop, priority: 10, action: ignore,
                 resourceScope: [{field: namespace, operator: equals, values: [shop]}]}
            defaultRule: {action: alert}
            """);

    private static ResourcePolicy resource(String name, int priority, String body) {
        return new ResourcePolicy(name, 1, priority, file(body), body.contains("defaultRule"));
    }

    private static String shopRule(String name, int rulePriority, String action) {
        return "rules:\n  - {name: " + name + ", priority: " + rulePriority + ", action: " + action
                + ", resourceScope: [{field: namespace, operator: equals, values: [shop]}]}\n";
    }

    private static List<String> order(CompiledPolicy policy) {
        return policy.rules().stream().map(CompiledRule::name).toList();
    }

    @Test
    void blocksGoBySpecPriorityWithTheFileAtZeroAheadOfResourcesOfEqualPriorityAndTiesByName() {
        // given the file (priority 0) and resources before, level with and after it, two of them tied
        List<ResourcePolicy> resources = List.of(
                resource("zeta", 5, shopRule("z", 1, "block")),
                resource("alpha", 5, shopRule("a", 99, "block")),
                resource("level", 0, shopRule("l", 1, "block")),
                resource("early", -1, shopRule("e", 1000, "alert")));

        // when they are merged
        CompiledPolicy merged = PolicyComposer.compose(Optional.of(FILE), resources);

        // then the blocks follow spec.priority (file first among the zeros, ties by name), whatever the rule priorities
        assertThat(order(merged)).containsExactly("early/e", "file-shop", "level/l", "alpha/a", "zeta/z");
        // and the first rule that applies decides, keeping its own priority in the verdict
        assertThat(merged.evaluate(inNamespace("shop")))
                .isEqualTo(new Verdict(Verdict.Decision.ALERT, "early/e", 1000, false));
    }

    @Test
    void insideAResourceRulesGoByTheirOwnPriorityTiesInTheOrderWritten() {
        ResourcePolicy resource = resource("r", 1, """
                rules:
                  - {name: second, priority: 5, action: alert}
                  - {name: first, priority: 1, action: alert, driftKinds: [MOUNT]}
                  - {name: third, priority: 5, action: alert}
                """);

        assertThat(order(PolicyComposer.compose(Optional.empty(), List.of(resource))))
                .containsExactly("r/first", "r/second", "r/third");
    }

    @Test
    void aResourcesDefaultRuleCountsOnlyBeforeTheFileOrWithoutOne() {
        ResourcePolicy after = resource("after", 1, "defaultRule: {action: block}\n");
        ResourcePolicy before = resource("before", -1, "defaultRule: {action: ignore}\n");
        ResourcePolicy silent = resource("silent", -2, shopRule("s", 1, "alert"));

        // the file states a default (alert): a resource after it has no say
        assertThat(PolicyComposer.compose(Optional.of(FILE), List.of(after)).defaultAction().wireName())
                .isEqualTo("alert");
        // a resource before it that states one decides; one that states none is passed over
        assertThat(PolicyComposer.compose(Optional.of(FILE), List.of(after, before, silent)).defaultAction().wireName())
                .isEqualTo("ignore");
        // without a file, the first resource that states one
        assertThat(PolicyComposer.compose(Optional.empty(), List.of(after, silent)).defaultAction().wireName())
                .isEqualTo("block");
        // nobody states one: ignore
        assertThat(PolicyComposer.compose(Optional.empty(), List.of(silent)).defaultAction().wireName())
                .isEqualTo("ignore");
    }

    @Test
    void withoutResourcesTheFileDecidesExactlyAsItDoesAlone() {
        CompiledPolicy alone = CompiledPolicy.compile(FILE);
        CompiledPolicy merged = PolicyComposer.compose(Optional.of(FILE), List.of());

        for (String namespace : List.of("shop", "other")) {
            assertThat(merged.evaluate(inNamespace(namespace))).isEqualTo(alone.evaluate(inNamespace(namespace)));
        }
        assertThat(order(merged)).isEqualTo(order(alone));
    }
}
