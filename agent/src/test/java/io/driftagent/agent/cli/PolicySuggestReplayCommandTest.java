package io.driftagent.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.learn.AlertLines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class PolicySuggestReplayCommandTest {
    private static final String CURRENT = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: ignore-kube-system
                priority: 10
                action: ignore
                resourceScope: [{field: namespace, operator: equals, values: [kube-system]}]
            defaultRule:
              action: alert
            """;

    @TempDir
    Path dir;

    private ByteArrayOutputStream stdout;
    private ByteArrayOutputStream stderr;
    private Path alerts;
    private Path current;

    @BeforeEach
    void log() throws Exception {
        // a log as the agent writes it: shop/web runs a self-updater twice and pip; ops/web the same updater;
        // shop/api a drop; one line is a fragment, one is not JSON at all
        alerts = Files.write(dir.resolve("alerts.jsonl"), new AlertLines()
                .add("shop", "web", "ADDED", "/usr/local/bin/updater", 1)   // 1
                .add("shop", "web", "ADDED", "/usr/local/bin/updater", 3)   // 2
                .add("shop", "web", "MODIFIED", "/usr/bin/pip", 1)          // 3
                .raw("{\"schemaVersion\":1,\"id\":\"0123")                  // 4 malformed
                .add("ops", "web", "ADDED", "/usr/local/bin/updater", 1)    // 5
                .add("shop", "api", "ADDED", "/tmp/dropped", 1)             // 6
                .raw("not json")                                           // 7 malformed
                .bytes());
        current = Files.writeString(dir.resolve("current.yaml"), CURRENT);
    }

    private int run(String... args) {
        stdout = new ByteArrayOutputStream();
        stderr = new ByteArrayOutputStream();
        return Main.run(args, new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    @Test
    void suggestWritesAPolicyTheLoaderAcceptsWithoutProblemsAndCountsMalformedLinesWithTheirNumbers() throws Exception {
        Path suggested = dir.resolve("suggested.yaml");

        int exit = run("policy", "suggest", "--alerts", alerts.toString(), "--policy", current.toString(),
                "--out", suggested.toString());

        assertThat(exit).as(err()).isZero();
        assertThat(err()).contains(alerts + ":4: skipped: not JSON", alerts + ":7: skipped: not JSON",
                alerts + ": 2 malformed lines skipped");
        String yaml = Files.readString(suggested);
        assertThat(yaml).contains("- name: \"ignore-kube-system\"", "# silences 2 alerts (4 execs): /usr/local/bin/updater;"
                + " first seen 2026-11-27T10:01:00Z, last seen 2026-11-27T10:02:00Z");
        assertThat(run("policy", "validate", suggested.toString())).isZero();
        assertThat(out()).isEmpty(); // no problem, not even a warning
        assertThat(err()).contains("valid (0 warnings)");
    }

    @Test
    void theSuggestionReplayedOnItsLogSilencesExactlyTheAlertsAskedForAndANewDriftStillAlerts() throws Exception {
        // given a suggestion for namespace shop, workload web only
        Path suggested = dir.resolve("suggested.yaml");
        assertThat(run("policy", "suggest", "--alerts", alerts.toString(), "--policy", current.toString(),
                "--namespace", "shop", "--workload", "web", "--out", suggested.toString())).as(err()).isZero();

        // when it is replayed on the log it came from
        assertThat(run("policy", "replay", "--policy", suggested.toString(), "--alerts", alerts.toString(), "--json"))
                .as(err()).isZero();
        JsonNode report = JsonMapper.builder().build().readTree(out());

        // then exactly lines 1, 2, 3 (shop/web) change, to allowed; ops/web and shop/api still alert
        List<Long> changed = new ArrayList<>();
        report.get("changes").forEach(c -> {
            changed.add(c.get("line").asLong());
            assertThat(c.get("now").get("verdict").asString()).isEqualTo("allowed");
            assertThat(c.get("recorded").get("action").asString()).isEqualTo("alert");
        });
        assertThat(changed).containsExactly(1L, 2L, 3L);
        assertThat(report.get("transitions").get("alert -> allowed").asLong()).isEqualTo(5);
        assertThat(report.get("malformedLines").toString()).isEqualTo("[4,7]");
        JsonNode defaultRule = report.get("rules").get(report.get("rules").size() - 1);
        assertThat(defaultRule.get("name").asString()).isEqualTo("default");
        assertThat(defaultRule.get("alert").asLong()).isEqualTo(2);

        // and a new drift of the same workload (another path), and the same path in another workload, still alert
        Path later = Files.write(dir.resolve("later.jsonl"), new AlertLines()
                .add("shop", "web", "ADDED", "/tmp/miner", 1)
                .add("shop", "api", "ADDED", "/usr/local/bin/updater", 1)
                .add("shop", "web", "ADDED", "/usr/local/bin/updater", 1)
                .bytes());
        assertThat(run("policy", "replay", "--policy", suggested.toString(), "--alerts", later.toString(), "--json")).isZero();
        JsonNode laterReport = JsonMapper.builder().build().readTree(out());
        List<Long> decisionsChanged = new ArrayList<>();
        laterReport.get("changes").forEach(c -> {
            if (c.get("decisionChanged").asBoolean()) {
                decisionsChanged.add(c.get("line").asLong());
            }
        });
        assertThat(decisionsChanged).as(out()).containsExactly(3L);
    }

    @Test
    void replayPrintsEachRulesVerdictsAndTheDifferencesFromTheRecordedVerdicts() throws Exception {
        Path policy = Files.writeString(dir.resolve("p.yaml"), """
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: block-shop
                    priority: 10
                    action: block
                    resourceScope: [{field: namespace, operator: equals, values: [shop]}]
                    allowList: [/usr/bin/pip]
                """);

        assertThat(run("policy", "replay", "--policy", policy.toString(), "--alerts", alerts.toString())).isZero();

        assertThat(out()).contains("replayed 5 alert lines (7 execs) from " + alerts + " against " + policy
                + "; 2 malformed lines skipped");
        assertThat(out().lines()).contains(
                "  rule        priority  alert  block  allowed  ignore",
                "  block-shop        10      0      5        1       0",
                "  default            -      0      0        0       1",
                "differences from the recorded verdicts: 5 alert lines (7 execs) change decision, 0 only their deciding rule",
                "  alert -> block: 5 execs",
                "  alert -> allowed: 1 execs",
                "  alert -> ignore: 1 execs");
        assertThat(out()).contains("  line 2: ADDED /usr/local/bin/updater (namespace shop, pod web-7d9f, container web):"
                + " recorded alert by 'default', now block by 'block-shop' (3 execs)");
    }

    @Test
    void badArgumentsAndBadFilesAreUsageErrorsAndAnInvalidCurrentPolicyIsExitOne() throws Exception {
        assertThat(run("policy", "suggest")).isEqualTo(2);
        assertThat(err()).contains("--alerts FILE is required");
        assertThat(run("policy", "suggest", "--alerts", alerts.toString(), "--kind", "IMAGE")).isEqualTo(2);
        assertThat(run("policy", "suggest", "--alerts", dir.resolve("absent").toString())).isEqualTo(2);
        assertThat(err()).contains("cannot read");
        assertThat(run("policy", "suggest", "--alerts", alerts.toString(), "--glob-threshold", "1")).isEqualTo(2);
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules: 3\n");
        assertThat(run("policy", "suggest", "--alerts", alerts.toString(), "--policy", bad.toString())).isEqualTo(1);
        assertThat(run("policy", "replay", "--policy", bad.toString(), "--alerts", alerts.toString())).isEqualTo(1);
        assertThat(run("policy", "replay", "--alerts", alerts.toString())).isEqualTo(2);
    }

    @Test
    void withoutACurrentPolicyTheSuggestionAlertsOnEveryOtherDriftAndGoesToStdout() throws Exception {
        assertThat(run("policy", "suggest", "--alerts", alerts.toString(), "--kind", "MODIFIED")).as(err()).isZero();

        assertThat(out()).contains("defaultRule:\n  action: alert\n", "\"/usr/bin/pip\"");
        assertThat(out()).doesNotContain("updater");
        assertThat(err()).contains("silenced 1 alert lines with 1 learned rule; 4 out of scope");
    }
}
