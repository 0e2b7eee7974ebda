package io.driftagent.policy.learn;

import static io.driftagent.policy.learn.Recorded.facts;
import static io.driftagent.policy.learn.Recorded.web;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyReplayTest {

    @Test
    void replayCountsEachRulesVerdictsInExecsAndListsTheLinesWhoseVerdictDiffersFromTheRecordedOne() {
        // given a policy that ignores ops, blocks MOUNT in shop and allows one path for web
        CompiledPolicy policy = PolicyYaml.compile(PolicyYaml.HEADER + """
                rules:
                  - name: ignore-ops
                    priority: 5
                    action: ignore
                    resourceScope: [{field: namespace, operator: equals, values: [ops]}]
                  - name: shop
                    priority: 10
                    action: alert
                    resourceScope: [{field: namespace, operator: equals, values: [shop]}]
                    allowList: [/usr/bin/ok]
                defaultRule:
                  action: block
                """);
        // and a log recorded under another policy: everything alerted by 'default'
        List<RecordedAlert> log = new Recorded()
                .add(web("/usr/bin/ok"), "alert", "default", 3)
                .add(web("/tmp/x"), "alert", "default", 1)
                .add(facts("ops", Map.of(), "c", "i", DriftKind.ADDED, "/tmp/y", null), "alert", "default", 2)
                .add(facts("dev", Map.of(), "c", "i", DriftKind.ADDED, "/tmp/z", null), "block", "default", 1)
                .log();

        // when it is replayed
        PolicyReplay.Report report = new PolicyReplay().replay(policy, log);

        // then per rule: ignore-ops ignores 2 execs, shop allows 3 and alerts 1, the default blocks 1
        assertThat(report.alerts()).isEqualTo(4);
        assertThat(report.occurrences()).isEqualTo(7);
        assertThat(report.rules()).extracting(PolicyReplay.RuleCounts::name).containsExactly("ignore-ops", "shop", "default");
        assertThat(report.rules().get(0).execs(Verdict.Decision.IGNORE)).isEqualTo(2);
        assertThat(report.rules().get(1).execs(Verdict.Decision.ALLOWED)).isEqualTo(3);
        assertThat(report.rules().get(1).execs(Verdict.Decision.ALERT)).isEqualTo(1);
        assertThat(report.rules().get(2).execs(Verdict.Decision.BLOCK)).isEqualTo(1);
        // and the differences: lines 1 (allowed), 2 (same decision, other rule), 3 (ignored); line 4 is unchanged
        assertThat(report.changes()).extracting(c -> c.alert().line()).containsExactly(1L, 2L, 3L);
        assertThat(report.changes()).extracting(PolicyReplay.Change::decisionChanged).containsExactly(true, false, true);
        assertThat(report.transitions()).containsExactly(Map.entry("alert -> allowed", 3L), Map.entry("alert -> ignore", 2L));
    }
}
