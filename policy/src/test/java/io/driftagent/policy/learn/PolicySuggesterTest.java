package io.driftagent.policy.learn;

import static io.driftagent.policy.learn.Recorded.facts;
import static io.driftagent.policy.learn.Recorded.web;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceField;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicySuggesterTest {

    private static final String CURRENT = PolicyYaml.HEADER + """
            rules:
              - name: block-payments
                priority: 10
                action: block
                resourceScope:
                  - field: namespace
                    operator: equals
                    values: ["payments"]
                allowList: ["/usr/local/bin/known"]
              - name: alert-shop
                priority: 20
                action: alert
                resourceScope:
                  - field: namespace
                    operator: startsWith
                    values: ["shop"]
            defaultRule:
              action: alert
            """;

    private final PolicySuggester suggester = new PolicySuggester();

    private static DriftPolicy current() {
        return PolicyYaml.compile(CURRENT).source();
    }

    private static Verdict.Decision decide(Suggestion s, DriftFacts facts) {
        return CompiledPolicy.compile(s.policy()).evaluate(facts).decision();
    }

    @Test
    void aLearnedLibraryLoadAllowsThatLibraryLoadOnlyNotAnExecOfTheSameFile() {
        // given a shop workload whose recorded alerts are library loads of /opt/plugins/geo.so
        DriftFacts load = web("/opt/plugins/geo.so");
        DriftFacts asLibrary = new DriftFacts(load.cloudProvider(), load.cloudAccount(), load.clusterName(),
                load.namespace(), load.podName(), load.podLabels(), load.containerName(), load.imageName(),
                load.kind(), load.path(), load.sha256(), io.driftagent.policy.model.Trigger.LIBRARY);
        List<RecordedAlert> log = new Recorded().add(asLibrary, "alert", "alert-shop", 2).log();

        // when
        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of("header"));

        // then the learned rule targets library loads, the load is allowed, and running the same file still alerts
        assertThat(s.learned()).hasSize(1);
        assertThat(s.learned().get(0).rule().triggers()).containsExactly(io.driftagent.policy.model.Trigger.LIBRARY);
        assertThat(PolicyYaml.load(s.yaml()).problems()).isEmpty();
        assertThat(decide(s, asLibrary)).isEqualTo(Verdict.Decision.ALLOWED);
        assertThat(decide(s, load)).isEqualTo(Verdict.Decision.ALERT);
    }

    @Test
    void theSuggestedPolicyLoadsWithoutAnyProblemAndKeepsTheCurrentRules() {
        // given a log of a shop workload, a payments workload and a workload decided by the default rule
        List<RecordedAlert> log = new Recorded()
                .add(web("/usr/bin/pip-tool"), "alert", "alert-shop", 3)
                .add(facts("payments", Map.of("app.kubernetes.io/name", "pay"), "api", "reg/pay:2", DriftKind.MODIFIED,
                        "/usr/bin/curl", "b".repeat(64)), "block", "block-payments", 1)
                .add(facts("batch", Map.of(), "job", "reg/job:1", DriftKind.MOUNT, "/data/run.sh", null))
                .log();

        // when a policy is suggested
        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of("header"));

        // then it loads with the project's loader without errors or warnings, and keeps the current rules as they were
        PolicyLoadResult loaded = PolicyYaml.load(s.yaml());
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.policy().orElseThrow().source()).isEqualTo(s.policy());
        assertThat(s.policy().rules()).containsAll(current().rules());
        assertThat(s.policy().defaultAction()).isEqualTo(Action.ALERT);
        assertThat(s.learned()).hasSize(3);
        assertThat(s.counts().silenced()).isEqualTo(3);
        // and every learned rule is scoped and matches by path or hash only: no blanket rule
        for (LearnedRule learned : s.learned()) {
            PolicyRule rule = learned.rule();
            assertThat(rule.resourceScope()).extracting(c -> c.field()).contains(ResourceField.NAMESPACE);
            assertThat(learned.entries().keySet()).isNotEmpty()
                    .allSatisfy(e -> assertThat(e.form()).isIn(AllowListEntry.Form.PATH, AllowListEntry.Form.GLOB,
                            AllowListEntry.Form.SHA256));
            assertThat(rule.driftKinds()).isNotEmpty();
        }
        // and each learned entry carries a comment with its count, first and last seen
        assertThat(s.yaml()).contains("# silences 1 alert (3 execs): /usr/bin/pip-tool; first seen 2026-11-27T10:01:00Z,"
                + " last seen 2026-11-27T10:01:00Z");
        // a learned copy of the block rule keeps the block action and the rule's own allow list
        LearnedRule pay = s.learned().stream().filter(l -> l.basedOn().equals("block-payments")).findFirst().orElseThrow();
        assertThat(pay.rule().action()).isEqualTo(Action.BLOCK);
        assertThat(pay.rule().allowList()).contains(new AllowListEntry(AllowListEntry.Form.PATH, "/usr/local/bin/known"));
        assertThat(pay.rule().priority()).isLessThan(10);
        assertThat(pay.rule().resourceScope()).extracting(c -> c.values().get(0))
                .contains("payments", "app.kubernetes.io/name=pay", "api");
    }

    @Test
    void roundTripSilencesExactlyTheAlertsAskedForAndNothingElse() {
        // given a log over two namespaces, several workloads and kinds
        List<RecordedAlert> log = new Recorded()
                .add(web("/usr/bin/pip-tool"), "alert", "alert-shop", 1)
                .add(web("/usr/bin/pip-tool"), "alert", "alert-shop", 4)
                .add(facts("shop", Map.of("app", "web"), "nginx", "i", DriftKind.MOUNT, "/cache/tool", null), "alert", "alert-shop", 1)
                .add(facts("shop", Map.of("app", "api"), "api", "i", DriftKind.ADDED, "/usr/bin/pip-tool", null), "alert", "alert-shop", 1)
                .add(facts("ops", Map.of("app", "web"), "nginx", "i", DriftKind.ADDED, "/usr/bin/pip-tool", null))
                .add(facts("shop", Map.of(), null, null, DriftKind.ADDED, "/x", null), "alert", "alert-shop", 1)
                .log();
        // asked: namespace shop, workload web, kind ADDED
        SuggestScope scope = new SuggestScope(Set.of("shop"), Set.of("web"), Set.of(DriftKind.ADDED));

        Suggestion s = suggester.suggest(current(), log, scope, List.of());

        // when the suggestion is replayed on the log it came from
        PolicyReplay.Report report = new PolicyReplay().replay(CompiledPolicy.compile(s.policy()), log);

        // then exactly lines 1 and 2 change (to allowed), every other line keeps its recorded verdict
        assertThat(report.changes()).extracting(c -> c.alert().line()).containsExactly(1L, 2L);
        assertThat(report.changes()).allSatisfy(c -> assertThat(c.now().decision()).isEqualTo(Verdict.Decision.ALLOWED));
        assertThat(report.transitions()).containsExactly(Map.entry("alert -> allowed", 5L));
        assertThat(s.collateral()).isEmpty();
        assertThat(s.counts().outOfScope()).isEqualTo(4);
        assertThat(PolicyYaml.load(s.yaml()).problems()).isEmpty();
    }

    @Test
    void aNewDriftOfTheSameWorkloadStillAlertsAndSoDoesTheSamePathInAnotherWorkload() {
        // given a suggestion learned from the web workload's drift
        List<RecordedAlert> log = new Recorded().add(web("/usr/bin/pip-tool"), "alert", "alert-shop", 1).log();
        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of());

        // then the learned exec is allowed
        assertThat(decide(s, web("/usr/bin/pip-tool"))).isEqualTo(Verdict.Decision.ALLOWED);
        // a different path of the same workload still alerts
        assertThat(decide(s, web("/tmp/miner"))).isEqualTo(Verdict.Decision.ALERT);
        // the same path in another workload of the namespace still alerts
        assertThat(decide(s, facts("shop", Map.of("app", "api"), "nginx", "registry.example/nginx:1.25",
                DriftKind.ADDED, "/usr/bin/pip-tool", null))).isEqualTo(Verdict.Decision.ALERT);
        // the same workload label in another namespace still alerts
        assertThat(decide(s, facts("shop-2", Map.of("app", "web"), "nginx", "registry.example/nginx:1.25",
                DriftKind.ADDED, "/usr/bin/pip-tool", null))).isEqualTo(Verdict.Decision.ALERT);
        // the same path as another drift kind still alerts
        assertThat(decide(s, facts("shop", Map.of("app", "web"), "nginx", "registry.example/nginx:1.25",
                DriftKind.MOUNT, "/usr/bin/pip-tool", null))).isEqualTo(Verdict.Decision.ALERT);
    }

    @Test
    void severalExactPathsOfOneWorkloadInOneDirectoryBecomeAOneDirectoryGlobButNeverInTmp() {
        // given three exact paths in /opt/tools/bin and three in /tmp, all of the web workload
        Recorded recorded = new Recorded();
        for (String name : List.of("a", "b", "c")) {
            recorded.add(web("/opt/tools/bin/" + name), "alert", "alert-shop", 1);
            recorded.add(web("/tmp/" + name), "alert", "alert-shop", 1);
        }
        recorded.add(web("/opt/other/one"), "alert", "alert-shop", 1);

        Suggestion s = suggester.suggest(current(), recorded.log(), SuggestScope.EVERYTHING, List.of());

        // then /opt/tools/bin is a glob (its comment names the paths), /tmp stays exact, a lone path stays exact
        assertThat(s.learned()).hasSize(1);
        assertThat(s.learned().get(0).entries().keySet()).extracting(AllowListEntry::toString).containsExactlyInAnyOrder(
                "glob:/opt/tools/bin/*", "/tmp/a", "/tmp/b", "/tmp/c", "/opt/other/one");
        assertThat(s.yaml()).contains("silences 3 alerts (3 execs): 3 exact paths in one directory "
                + "[/opt/tools/bin/a, /opt/tools/bin/b, /opt/tools/bin/c]");
        // the glob covers one directory level only
        assertThat(decide(s, web("/opt/tools/bin/d"))).isEqualTo(Verdict.Decision.ALLOWED);
        assertThat(decide(s, web("/opt/tools/bin/sub/d"))).isEqualTo(Verdict.Decision.ALERT);
        assertThat(decide(s, web("/tmp/d"))).isEqualTo(Verdict.Decision.ALERT);

        // with the threshold at 0 no glob is written
        Suggestion exact = new PolicySuggester(0).suggest(current(), recorded.log(), SuggestScope.EVERYTHING, List.of());
        assertThat(exact.learned().get(0).entries().keySet()).noneMatch(e -> e.form() == AllowListEntry.Form.GLOB);
    }

    @Test
    void theSameContentRunFromSeveralPathsBecomesOneSha256EntryAndAFilelessExecIsMatchedByItsHash() {
        String sha = "c".repeat(64);
        List<RecordedAlert> log = new Recorded()
                .add(facts("shop", Map.of("app", "web"), "nginx", "i", DriftKind.ADDED, "/tmp/tmp.1x/tool", sha), "alert", "alert-shop", 1)
                .add(facts("shop", Map.of("app", "web"), "nginx", "i", DriftKind.ADDED, "/tmp/tmp.9q/tool", sha), "alert", "alert-shop", 1)
                .add(facts("shop", Map.of("app", "web"), "nginx", "i", DriftKind.FILELESS, "memfd:jit (deleted)", "d".repeat(64)), "alert", "alert-shop", 1)
                .log();

        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of());

        assertThat(s.learned().get(0).entries().keySet()).extracting(AllowListEntry::toString)
                .containsExactlyInAnyOrder("sha256:" + sha, "sha256:" + "d".repeat(64));
        // another content at a learned path still alerts
        assertThat(decide(s, facts("shop", Map.of("app", "web"), "nginx", "i", DriftKind.ADDED, "/tmp/tmp.1x/tool",
                "e".repeat(64)))).isEqualTo(Verdict.Decision.ALERT);
    }

    @Test
    void anAlertThatNamesNoWorkloadIsNeverSilenced() {
        // given a standalone alert with no namespace, no labels and no image, and one without path nor hash
        List<RecordedAlert> log = new Recorded()
                .add(facts(null, Map.of(), "c1", null, DriftKind.ADDED, "/tmp/x", null))
                .add(facts("shop", Map.of("app", "web"), "nginx", "i", DriftKind.FILELESS, "memfd:x", null), "alert", "alert-shop", 1)
                .log();

        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of());

        // then no rule is learned and both are reported
        assertThat(s.learned()).isEmpty();
        assertThat(s.counts().unscoped()).containsExactly(1L);
        assertThat(s.counts().unmatchable()).containsExactly(2L);
        assertThat(s.policy().rules()).isEqualTo(current().rules());
    }

    @Test
    void alertsTheCurrentPolicyAlreadyAllowsAreNotLearnedAgain() {
        List<RecordedAlert> log = new Recorded()
                .add(facts("payments", Map.of("app", "pay"), "api", "i", DriftKind.ADDED, "/usr/local/bin/known", null), "block", "block-payments", 1)
                .log();

        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of());

        assertThat(s.learned()).isEmpty();
        assertThat(s.counts().alreadySilent()).isEqualTo(1);
    }

    @Test
    void withoutFreePrioritiesBeforeTheDecidingRuleTheRulesAreRenumberedInTheSameOrder() {
        // given rules at 1 and 2: no integer between them for a learned copy of rule 'two'
        DriftPolicy tight = PolicyYaml.compile(PolicyYaml.HEADER + """
                rules:
                  - name: one
                    priority: 1
                    action: alert
                    resourceScope: [{field: namespace, operator: equals, values: [ops]}]
                  - name: two
                    priority: 2
                    action: alert
                """).source();
        List<RecordedAlert> log = new Recorded().add(web("/usr/bin/x"), "alert", "two", 1).log();

        Suggestion s = suggester.suggest(tight, log, SuggestScope.EVERYTHING, List.of());

        assertThat(s.renumbered()).isTrue();
        assertThat(s.policy().rules()).extracting(PolicyRule::name, PolicyRule::priority).containsExactly(
                org.assertj.core.groups.Tuple.tuple("one", 10),
                org.assertj.core.groups.Tuple.tuple("learned-shop-web", 20),
                org.assertj.core.groups.Tuple.tuple("two", 30));
        assertThat(PolicyYaml.load(s.yaml()).problems()).isEmpty();
        assertThat(s.yaml()).contains("# The current rules were renumbered");
    }

    @Test
    void hostilePathsAndLabelsStayValuesInTheWrittenYaml() {
        String path = "/tmp/a\"b\\c\n- name: evil\u2028#x";
        List<RecordedAlert> log = new Recorded()
                .add(facts("shop", Map.of("app", "we\"b: [x]"), "nginx", "i", DriftKind.ADDED, path, null), "alert", "alert-shop", 1)
                .log();

        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of("line one\nline two"));

        PolicyLoadResult loaded = PolicyYaml.load(s.yaml());
        assertThat(loaded.problems()).isEmpty();
        assertThat(loaded.policy().orElseThrow().source()).isEqualTo(s.policy());
        assertThat(decide(s, log.get(0).facts())).isEqualTo(Verdict.Decision.ALLOWED);
        assertThat(s.yaml().lines()).noneMatch(l -> l.startsWith("- name: evil"));
    }

    @Test
    void overlappingWorkloadScopesAreOrderedMostSpecificFirstSoEachLearnedExecIsAllowed() {
        // given the same namespace, container and image: a pod with a workload label, one without any, one with a
        // higher-ranked workload label too
        String image = "registry.example/nginx:1.25";
        List<RecordedAlert> log = new Recorded()
                .add(facts("shop", Map.of(), "nginx", image, DriftKind.ADDED, "/usr/bin/unlabelled", null), "alert", "alert-shop", 1)
                .add(facts("shop", Map.of("app", "web"), "nginx", image, DriftKind.ADDED, "/usr/bin/app-web", null), "alert", "alert-shop", 1)
                .add(facts("shop", Map.of("app.kubernetes.io/name", "web2", "app", "web"), "nginx", image, DriftKind.ADDED,
                        "/usr/bin/named", null), "alert", "alert-shop", 1)
                .log();

        Suggestion s = suggester.suggest(current(), log, SuggestScope.EVERYTHING, List.of());

        // then three learned rules, the labelled ones before the unlabelled (image-scoped) one, and all three allowed
        assertThat(s.learned()).extracting(l -> l.workload().labelKey())
                .containsExactly("app.kubernetes.io/name", "app", null);
        for (RecordedAlert alert : log) {
            assertThat(decide(s, alert.facts())).as(alert.facts().path()).isEqualTo(Verdict.Decision.ALLOWED);
        }
        assertThat(s.collateral()).isEmpty();
        // and the unlabelled pod's rule names its image, the labelled ones do not
        assertThat(s.learned().get(2).rule().resourceScope()).extracting(c -> c.field()).contains(ResourceField.IMAGE_NAME);
        assertThat(s.learned().get(1).rule().resourceScope()).extracting(c -> c.field()).doesNotContain(ResourceField.IMAGE_NAME);
    }
}
