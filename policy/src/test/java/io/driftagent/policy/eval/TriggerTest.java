package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import io.driftagent.policy.model.Trigger;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A rule's {@code triggers}: exec, library load, or (absent) both. */
class TriggerTest {

    private static PolicyLoadResult loadResult(String yaml) {
        return new PolicyLoader().load("test.yaml", yaml.getBytes(StandardCharsets.UTF_8));
    }

    private static CompiledPolicy load(String yaml) {
        PolicyLoadResult result = loadResult(yaml);
        return result.policy().orElseThrow(() -> new AssertionError(result.problems().toString()));
    }

    @Test
    void aRuleForLibraryLoadsDecidesThemAndLeavesExecsToTheNextRule() {
        // given a rule allowing one plugin as a library and a catch-all alert
        CompiledPolicy policy = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: plugins
                    priority: 1
                    action: alert
                    triggers: [library]
                    resourceScope: [{field: namespace, operator: equals, values: [shop]}]
                    allowList: [/opt/plugin.so]
                  - name: ignore-exec-tools
                    priority: 2
                    action: ignore
                    triggers: [exec]
                    resourceScope: [{field: namespace, operator: equals, values: [tools]}]
                defaultRule:
                  action: alert
                """);
        // when / then: the plugin loaded as a library is allowed; executed, it is not the rule's business
        assertThat(policy.evaluate(Facts.exec().path("/opt/plugin.so").trigger(Trigger.LIBRARY).build()))
                .extracting(Verdict::decision, Verdict::ruleName).containsExactly(Verdict.Decision.ALLOWED, "plugins");
        assertThat(policy.evaluate(Facts.exec().path("/opt/plugin.so").build()))
                .extracting(Verdict::decision, Verdict::ruleName).containsExactly(Verdict.Decision.ALERT, "default");
        // and a rule for execs leaves library loads of the same workload to the default rule
        assertThat(policy.evaluate(Facts.exec().namespace("tools").build()).decision())
                .isEqualTo(Verdict.Decision.IGNORE);
        assertThat(policy.evaluate(Facts.exec().namespace("tools").trigger(Trigger.LIBRARY).build()))
                .extracting(Verdict::decision, Verdict::ruleName).containsExactly(Verdict.Decision.ALERT, "default");
        assertThat(policy.explain(Facts.exec().namespace("tools").trigger(Trigger.LIBRARY).build()).toString())
                .contains("trigger library is not in triggers [exec]");
    }

    @Test
    void aRuleWithoutTriggersDecidesLibraryLoadsAsItDecidesExecs() {
        CompiledPolicy policy = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: ignore-shop
                    priority: 1
                    action: ignore
                    resourceScope: [{field: namespace, operator: equals, values: [shop]}]
                defaultRule:
                  action: alert
                """);
        assertThat(policy.rules().get(0).source().triggers()).isEmpty();
        for (Trigger trigger : Trigger.values()) {
            assertThat(policy.evaluate(Facts.exec().trigger(trigger).build()).ruleName()).isEqualTo("ignore-shop");
        }
    }

    @Test
    void bothTriggersMakeACatchAllAndOneDoesNot() {
        PolicyLoadResult both = loadResult("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - {name: all, priority: 1, action: alert, triggers: [exec, library]}
                  - {name: later, priority: 2, action: ignore}
                """);
        assertThat(both.problems()).extracting(Problem::code).containsExactly(ProblemCode.SHADOWED_RULE);
        PolicyLoadResult one = loadResult("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - {name: libs, priority: 1, action: alert, triggers: [library]}
                  - {name: later, priority: 2, action: ignore}
                """);
        assertThat(one.problems()).isEmpty();
        assertThat(one.policy().orElseThrow().rules().get(0).source().triggers()).isEqualTo(Set.of(Trigger.LIBRARY));
    }

    @Test
    void anUnknownOrMisspelledTriggerIsALocatedErrorWithAHint() {
        PolicyLoadResult result = loadResult("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: a
                    priority: 1
                    action: alert
                    triggers: [libary, EXEC]
                  - name: b
                    priority: 2
                    action: alert
                    triggers: []
                """);
        assertThat(result.policy()).isEmpty();
        assertThat(result.problems()).extracting(Problem::code, Problem::line, Problem::column, Problem::path)
                .containsExactly(
                        tuple(ProblemCode.UNKNOWN_TRIGGER, 7, 16, "rules[0].triggers[0]"),
                        tuple(ProblemCode.UNKNOWN_TRIGGER, 7, 24, "rules[0].triggers[1]"),
                        tuple(ProblemCode.EMPTY_VALUES, 11, 15, "rules[1].triggers"));
        assertThat(result.problems().get(0).message()).contains("'libary'", "[exec, library]", "library");
    }
}
