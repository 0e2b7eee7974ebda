package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.eval.Verdict.Decision;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.DriftKind;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rule-level semantics: AND/OR, ordering and ties, cloud scope, drift-kind narrowing, allow lists, the default
 * rule and unknown (null) facts. Each row: rules (YAML), the exec, the expected decision and deciding rule.
 */
class RuleSemanticsConformanceTest {

    private static final String SHA = "0123456789abcdef".repeat(4);

    static Stream<Arguments> cases() {
        return Stream.of(
                // AND across conditions, OR within values
                row("conditions on different fields must all hold",
                        rule("both", 1, "alert", cond("namespace", "equals", "shop") + andCond("containerName", "equals", "redis")),
                        Facts.exec().namespace("shop").container("nginx"), Decision.IGNORE, "default"),
                row("all conditions holding decides",
                        rule("both", 1, "alert", cond("namespace", "equals", "shop") + andCond("containerName", "equals", "nginx")),
                        Facts.exec().namespace("shop").container("nginx"), Decision.ALERT, "both"),
                row("any one of the values suffices",
                        rule("any", 1, "block", cond("namespace", "equals", "a', 'shop', 'b")),
                        Facts.exec().namespace("shop"), Decision.BLOCK, "any"),
                row("two conditions on the same field both apply (AND)",
                        rule("same", 1, "alert", cond("namespace", "startsWith", "sh") + andCond("namespace", "endsWith", "x")),
                        Facts.exec().namespace("shop"), Decision.IGNORE, "default"),
                // ordering
                row("lower priority number is evaluated first, whatever the file order",
                        rule("second", 20, "alert", "") + rule("first", 10, "block", ""),
                        Facts.exec(), Decision.BLOCK, "first"),
                row("equal priorities: the rule written first wins",
                        rule("written-first", 5, "ignore", "") + rule("written-second", 5, "block", ""),
                        Facts.exec(), Decision.IGNORE, "written-first"),
                row("negative priorities come before positive ones",
                        rule("pos", 1, "alert", "") + rule("neg", -1, "block", ""),
                        Facts.exec(), Decision.BLOCK, "neg"),
                row("a non-matching earlier rule passes to the next",
                        rule("kube", 1, "block", cond("namespace", "equals", "kube-system")) + rule("rest", 2, "alert", ""),
                        Facts.exec().namespace("shop"), Decision.ALERT, "rest"),
                // cloud scope
                row("cloud scope without accounts takes every account of the provider",
                        rule("az", 1, "alert", cloud("azure", null)), Facts.exec().cloud("azure", "any-sub"),
                        Decision.ALERT, "az"),
                row("cloud scope of another provider does not match",
                        rule("aws", 1, "alert", cloud("aws", null)), Facts.exec().cloud("azure", "sub-1"),
                        Decision.IGNORE, "default"),
                row("cloud scope with accounts matches a listed account",
                        rule("acct", 1, "alert", cloud("aws", "['111122223333', '444455556666']")),
                        Facts.exec().cloud("aws", "444455556666"), Decision.ALERT, "acct"),
                row("cloud scope with accounts does not match an unlisted account",
                        rule("acct", 1, "alert", cloud("aws", "['111122223333']")),
                        Facts.exec().cloud("aws", "999999999999"), Decision.IGNORE, "default"),
                row("account ids compare ignoring case (Azure GUIDs)",
                        rule("guid", 1, "alert", cloud("azure", "['AB12CD34-0000-1111-2222-333344445555']")),
                        Facts.exec().cloud("azure", "ab12cd34-0000-1111-2222-333344445555"), Decision.ALERT, "guid"),
                row("an unquoted numeric account id keeps its leading zero",
                        rule("zero", 1, "alert", cloud("aws", "[012345678901]")),
                        Facts.exec().cloud("aws", "012345678901"), Decision.ALERT, "zero"),
                row("several cloud entries: any one suffices",
                        rule("multi", 1, "alert", "    cloudScope:\n      - provider: aws\n      - provider: gcp\n"),
                        Facts.exec().cloud("gcp", "proj"), Decision.ALERT, "multi"),
                row("an unknown cloud never matches a cloud scope",
                        rule("az", 1, "alert", cloud("azure", null)), Facts.exec().cloud(null, null),
                        Decision.IGNORE, "default"),
                row("an unknown account never matches a scope that lists accounts",
                        rule("acct", 1, "alert", cloud("azure", "[sub-1]")), Facts.exec().cloud("azure", null),
                        Decision.IGNORE, "default"),
                row("a rule without cloud scope matches an unknown cloud",
                        rule("any", 1, "alert", ""), Facts.exec().cloud(null, null), Decision.ALERT, "any"),
                // drift kinds
                row("driftKinds narrows the rule to those kinds",
                        rule("mounts", 1, "block", "    driftKinds: [MOUNT, FILELESS]\n"),
                        Facts.exec().kind(DriftKind.ADDED), Decision.IGNORE, "default"),
                row("a listed drift kind matches",
                        rule("mounts", 1, "block", "    driftKinds: [MOUNT, FILELESS]\n"),
                        Facts.exec().kind(DriftKind.FILELESS), Decision.BLOCK, "mounts"),
                row("without driftKinds every kind matches (UNRESOLVED included)",
                        rule("all", 1, "alert", ""), Facts.exec().kind(DriftKind.UNRESOLVED), Decision.ALERT, "all"),
                // allow lists
                row("an exact path on the allow list is allowed, naming the rule",
                        rule("r", 1, "block", allow("/usr/bin/apt-get")), Facts.exec().path("/usr/bin/apt-get"),
                        Decision.ALLOWED, "r"),
                row("an exact path entry does not match another path",
                        rule("r", 1, "block", allow("/usr/bin/apt-get")), Facts.exec().path("/usr/bin/apt-get2"),
                        Decision.BLOCK, "r"),
                row("glob ** crosses directories",
                        rule("r", 1, "block", allow("glob:/opt/tools/**")), Facts.exec().path("/opt/tools/a/b/run"),
                        Decision.ALLOWED, "r"),
                row("glob * stays within one directory",
                        rule("r", 1, "block", allow("glob:/opt/tools/*")), Facts.exec().path("/opt/tools/a/b"),
                        Decision.BLOCK, "r"),
                row("glob * matches within the directory",
                        rule("r", 1, "block", allow("glob:/opt/tools/*")), Facts.exec().path("/opt/tools/run"),
                        Decision.ALLOWED, "r"),
                row("name: matches the basename anywhere",
                        rule("r", 1, "block", allow("name:pip")), Facts.exec().path("/usr/local/bin/pip"),
                        Decision.ALLOWED, "r"),
                row("name: is the whole basename",
                        rule("r", 1, "block", allow("name:pip")), Facts.exec().path("/usr/local/bin/pip3"),
                        Decision.BLOCK, "r"),
                row("sha256: matches the executed content",
                        rule("r", 1, "block", allow("sha256:" + SHA.toUpperCase())), Facts.exec().sha256(SHA),
                        Decision.ALLOWED, "r"),
                row("sha256: with an unknown digest is not allowed",
                        rule("r", 1, "block", allow("sha256:" + SHA)), Facts.exec().sha256(null),
                        Decision.BLOCK, "r"),
                row("an allow list only applies to its own rule: a later rule's list is never consulted",
                        rule("first", 1, "alert", "") + rule("second", 2, "ignore", allow("/tmp/evil")),
                        Facts.exec().path("/tmp/evil"), Decision.ALERT, "first"),
                row("the allow list does not widen the scope: no match still goes on",
                        rule("kube", 1, "block", cond("namespace", "equals", "kube-system") + allow("/tmp/evil")),
                        Facts.exec().namespace("shop").path("/tmp/evil"), Decision.IGNORE, "default"),
                // null facts
                row("an unknown namespace never matches a namespace condition",
                        rule("r", 1, "alert", cond("namespace", "startsWith", "")), Facts.exec().namespace(null),
                        Decision.IGNORE, "default"),
                row("unknown labels never match a label condition",
                        rule("r", 1, "alert", cond("podLabels", "equals", "app")), Facts.exec().labels(null),
                        Decision.IGNORE, "default"),
                row("an unknown image never matches, even a ** glob",
                        rule("r", 1, "alert", cond("imageName", "glob", "**")), Facts.exec().image(null),
                        Decision.IGNORE, "default"),
                // default rule
                row("no rules: the default rule ignores",
                        "", Facts.exec(), Decision.IGNORE, "default"),
                row("the default rule's action can be changed",
                        rule("kube", 1, "ignore", cond("namespace", "equals", "kube-system"))
                                + "defaultRule:\n  action: alert\n",
                        Facts.exec().namespace("shop"), Decision.ALERT, "default"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void policyDecidesAsSpecified(String rules, Facts facts, Decision expected, String expectedRule) {
        // given
        CompiledPolicy policy = PolicyYaml.compile(PolicyYaml.HEADER + (rules.startsWith("  -") ? "rules:\n" : "") + rules);
        // when
        Verdict verdict = policy.evaluate(facts.build());
        // then
        assertThat(verdict.decision()).isEqualTo(expected);
        assertThat(verdict.ruleName()).isEqualTo(expectedRule);
        assertThat(verdict.defaultRule()).isEqualTo(expectedRule.equals("default"));
        // and the explanation always agrees with the hot path
        assertThat(policy.explain(facts.build()).verdict()).isEqualTo(verdict);
    }

    @Test
    void defaultOnlyPolicyDecidesEverythingWithTheGivenAction() {
        // given
        CompiledPolicy policy = CompiledPolicy.defaultOnly(Action.ALERT);
        // when
        Verdict verdict = policy.evaluate(Facts.exec().build());
        // then
        assertThat(verdict).isEqualTo(new Verdict(Decision.ALERT, "default", null, true));
        assertThat(policy.rules()).isEmpty();
        assertThat(policy.defaultAction()).isEqualTo(Action.ALERT);
    }

    @Test
    void rulesAreExposedInEvaluationOrder() {
        // given
        CompiledPolicy policy = PolicyYaml.compile(PolicyYaml.HEADER + "rules:\n" + rule("c", 30, "alert", cond("namespace", "equals", "x"))
                + rule("a", 10, "alert", cond("namespace", "equals", "y")) + rule("b", 10, "alert", cond("namespace", "equals", "z")));
        // then
        assertThat(policy.rules()).extracting(CompiledRule::name).containsExactly("a", "b", "c");
    }

    @Test
    void explanationNamesTheFailedCheckOfEveryEarlierRuleAndWhyTheDecidingRuleApplied() {
        // given
        CompiledPolicy policy = PolicyYaml.compile(PolicyYaml.HEADER + "rules:\n"
                + rule("kinds", 1, "block", "    driftKinds: [MOUNT]\n")
                + rule("cloud", 2, "block", cloud("aws", null))
                + rule("ns", 3, "block", cond("namespace", "equals", "kube-system"))
                + rule("shop", 4, "alert", cond("namespace", "equals", "shop") + allow("name:pip")));
        // when
        Explanation explanation = policy.explain(Facts.exec().namespace("shop").path("/usr/bin/pip").build());
        // then
        assertThat(explanation.verdict()).isEqualTo(new Verdict(Decision.ALLOWED, "shop", 4, false));
        assertThat(explanation.decidingRule()).map(CompiledRule::name).contains("shop");
        assertThat(explanation.skipped()).extracting(Explanation.SkippedRule::name).containsExactly("kinds", "cloud", "ns");
        assertThat(explanation.reasons()).hasSize(4);
        assertThat(explanation.reasons().get(0)).contains("drift kind ADDED is not in driftKinds [MOUNT]");
        assertThat(explanation.reasons().get(1)).contains("cloud azure/sub-1 is not in cloudScope [aws (any account)]");
        assertThat(explanation.reasons().get(2)).contains("resourceScope[0] (namespace equals [kube-system])")
                .contains("namespace 'shop'");
        assertThat(explanation.reasons().get(3)).contains("rule 'shop' (priority 4) applies")
                .contains("/usr/bin/pip is on its allow list (name:pip): allowed");
    }

    @Test
    void explanationOfTheDefaultRuleSaysNoRuleApplied() {
        // given
        CompiledPolicy policy = PolicyYaml.compile(PolicyYaml.HEADER + "rules:\n" + rule("ns", 3, "block", cond("namespace", "equals", "x")));
        // when
        Explanation explanation = policy.explain(Facts.exec().namespace(null).build());
        // then
        assertThat(explanation.decidingRule()).isEmpty();
        assertThat(explanation.reasons()).containsExactly(
                "rule 'ns' (priority 3) skipped: resourceScope[0] (namespace equals [x]) does not match: namespace is unknown",
                "no rule applies: the default rule decides ignore");
    }

    private static Arguments row(String name, String rules, Facts facts, Decision expected, String rule) {
        return Arguments.of(Named.of(name, rules), facts, expected, rule);
    }

    static String rule(String name, int priority, String action, String body) {
        return "  - name: " + name + "\n    priority: " + priority + "\n    action: " + action + "\n" + body;
    }

    static String cond(String field, String operator, String values) {
        return "    resourceScope:\n      - field: " + field + "\n        operator: " + operator + "\n        values: ['"
                + values + "']\n";
    }

    static String andCond(String field, String operator, String values) {
        return "      - field: " + field + "\n        operator: " + operator + "\n        values: ['" + values + "']\n";
    }

    private static String cloud(String provider, String accounts) {
        return "    cloudScope:\n      - provider: " + provider + "\n" + (accounts == null ? "" : "        accounts: " + accounts + "\n");
    }

    private static String allow(String entry) {
        return "    allowList: ['" + entry + "']\n";
    }

}
