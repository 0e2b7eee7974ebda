package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.OnTimeout;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A rule's {@code onTimeout}: how it is written, validated, defaulted, and which one a late decision takes. */
class OnTimeoutTest {

    private static final Set<DriftKind> EVERY_KIND = EnumSet.allOf(DriftKind.class);

    private static CompiledPolicy load(String yaml) {
        var result = new PolicyLoader().load("test.yaml", yaml.getBytes(StandardCharsets.UTF_8));
        return result.policy().orElseThrow(() -> new AssertionError(result.problems().toString()));
    }

    @Test
    void aBlockRuleDeniesOnTimeoutUnlessItSaysAllow() {
        // given a block rule without onTimeout and one that allows on timeout
        CompiledPolicy policy = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: block-shop
                    priority: 1
                    action: block
                    resourceScope: [{field: namespace, operator: equals, values: [shop]}]
                  - name: block-lab-leniently
                    priority: 2
                    action: block
                    onTimeout: allow
                    resourceScope: [{field: namespace, operator: equals, values: [lab]}]
                """);
        // when / then
        assertThat(policy.rules()).extracting(CompiledRule::onTimeout).containsExactly(OnTimeout.DENY, OnTimeout.ALLOW);
        assertThat(policy.onTimeout(Facts.exec().namespace("shop").build(), EVERY_KIND))
                .isEqualTo(new TimeoutVerdict(OnTimeout.DENY, "block-shop"));
        assertThat(policy.onTimeout(Facts.exec().namespace("lab").build(), EVERY_KIND))
                .isEqualTo(new TimeoutVerdict(OnTimeout.ALLOW, "block-lab-leniently"));
        assertThat(policy.onTimeout(Facts.exec().namespace("other").build(), EVERY_KIND))
                .isEqualTo(TimeoutVerdict.NOT_BLOCKABLE);
    }

    @Test
    void whenTheKindIsNotKnownYetTheStricterOfTheBlockRulesThatCouldDecideWins() {
        // given a lenient block rule for ADDED, a strict one for MOUNT, an alert rule for MODIFIED
        CompiledPolicy policy = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - {name: lenient-added, priority: 1, action: block, onTimeout: allow, driftKinds: [ADDED]}
                  - {name: strict-mount, priority: 2, action: block, driftKinds: [MOUNT]}
                  - {name: alert-modified, priority: 3, action: alert, driftKinds: [MODIFIED]}
                """);
        // then the possible kinds decide which rules count
        assertThat(policy.onTimeout(Facts.exec().build(), EnumSet.of(DriftKind.ADDED, DriftKind.MODIFIED)))
                .isEqualTo(new TimeoutVerdict(OnTimeout.ALLOW, "lenient-added"));
        assertThat(policy.onTimeout(Facts.exec().build(), EnumSet.of(DriftKind.ADDED, DriftKind.MOUNT)))
                .isEqualTo(new TimeoutVerdict(OnTimeout.DENY, "strict-mount"));
        assertThat(policy.onTimeout(Facts.exec().build(), EnumSet.of(DriftKind.MODIFIED, DriftKind.IMAGE)))
                .isEqualTo(TimeoutVerdict.NOT_BLOCKABLE);
    }

    @Test
    void anAllowListDoesNotSoftenTheTimeoutAnswerBecauseTheFileIsNotKnownYet() {
        CompiledPolicy policy = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - {name: block-all, priority: 1, action: block, allowList: ["glob:/**"]}
                """);
        assertThat(policy.onTimeout(Facts.exec().build(), EVERY_KIND).denies()).isTrue();
    }

    @Test
    void theDefaultRuleHasItsOwnOnTimeout() {
        CompiledPolicy strict = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                defaultRule: {action: block}
                """);
        CompiledPolicy lenient = load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                defaultRule: {action: block, onTimeout: allow}
                """);
        assertThat(strict.onTimeout(Facts.exec().build(), EVERY_KIND))
                .isEqualTo(new TimeoutVerdict(OnTimeout.DENY, CompiledPolicy.DEFAULT_RULE_NAME));
        assertThat(lenient.onTimeout(Facts.exec().build(), EVERY_KIND))
                .isEqualTo(new TimeoutVerdict(OnTimeout.ALLOW, CompiledPolicy.DEFAULT_RULE_NAME));
    }

    @Test
    void anUnknownValueAndOnTimeoutOnARuleThatDoesNotBlockAreLocatedErrors() {
        // given
        String yaml = String.join("\n",
                "apiVersion: drift.agent/v1",          // 1
                "kind: DriftPolicy",                   // 2
                "rules:",                              // 3
                "  - name: a",                         // 4
                "    priority: 1",                     // 5
                "    action: block",                   // 6
                "    onTimeout: Deny",                 // 7
                "  - name: b",                         // 8
                "    priority: 2",                     // 9
                "    action: alert",                   // 10
                "    onTimeout: deny",                 // 11
                "defaultRule:",                        // 12
                "  action: ignore",                    // 13
                "  onTimeout: allow",                  // 14
                "");
        // when
        PolicyLoadResult result = PolicyYaml.load(yaml);
        // then
        assertThat(result.policy()).isEmpty();
        assertThat(result.problems())
                .extracting(Problem::code, Problem::line, Problem::column, Problem::path)
                .containsExactly(
                        tuple(ProblemCode.UNKNOWN_ON_TIMEOUT, 7, 16, "rules[0].onTimeout"),
                        tuple(ProblemCode.ON_TIMEOUT_WITHOUT_BLOCK, 11, 16, "rules[1].onTimeout"),
                        tuple(ProblemCode.ON_TIMEOUT_WITHOUT_BLOCK, 14, 14, "defaultRule.onTimeout"));
        assertThat(result.problems().get(0).message()).contains("use deny or allow").contains("deny");
    }
}
