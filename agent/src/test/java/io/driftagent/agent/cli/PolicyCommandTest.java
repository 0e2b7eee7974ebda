package io.driftagent.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class PolicyCommandTest {
    private static final String HEADER = "apiVersion: drift.agent/v1\nkind: DriftPolicy\n";
    private static final String POLICY = HEADER + "rules:\n"
            + "  - name: kube\n    priority: 10\n    action: block\n"
            + "    resourceScope: [{field: namespace, operator: equals, values: [kube-system]}]\n"
            + "  - name: shop\n    priority: 20\n    action: alert\n"
            + "    resourceScope: [{field: podLabels, operator: equals, values: [app=web]}]\n"
            + "    allowList: ['name:pip']\n";

    @TempDir
    Path dir;

    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    private Path file(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void validateExitsZeroForAValidPolicyAndPrintsNothingOnStdout() throws Exception {
        Path policy = file("ok.yaml", POLICY);
        assertThat(run("policy", "validate", policy.toString())).isZero();
        assertThat(out()).isEmpty();
        assertThat(err()).contains(policy + ": valid (0 warnings)");
    }

    @Test
    void validateExitsZeroWithWarningsPrintedOnePerLine() throws Exception {
        Path policy = file("warn.yaml", HEADER + "rules:\n  - {name: a, priority: 1, action: alert}\n  - {name: b, priority: 1, action: block}\n");
        assertThat(run("policy", "validate", policy.toString())).isZero();
        assertThat(out().lines()).containsExactly(
                policy + ":5:5: SHADOWED_RULE: rule 'b' can never apply: rule 'a' (priority 1, line 4) comes first and has no"
                        + " cloudScope, resourceScope or driftKinds, so it decides every drifted exec (at rules[1])",
                policy + ":5:25: DUPLICATE_PRIORITY: priority 1 is also used by rule 'a' (line 4); the rule written first is"
                        + " evaluated first (at rules[1].priority)");
    }

    @Test
    void validateExitsOneWhenAnyFileIsInvalidAndReportsEveryFile() throws Exception {
        Path good = file("good.yaml", POLICY);
        Path bad = file("bad.yaml", HEADER + "rules:\n  - {name: a, priority: 1, action: allow}\n");
        assertThat(run("policy", "validate", good.toString(), bad.toString())).isEqualTo(1);
        assertThat(out().lines()).containsExactly(bad + ":4:36: UNKNOWN_ACTION: unknown action 'allow'; use alert, block or"
                + " ignore (at rules[0].action)");
        assertThat(err()).contains(good + ": valid").contains(bad + ": invalid (1 errors, 0 warnings)");
    }

    @Test
    void validateExitsTwoForAnUnreadableFile() throws Exception {
        Path bad = file("bad.yaml", "rules: [");
        assertThat(run("policy", "validate", bad.toString(), dir.resolve("missing.yaml").toString())).isEqualTo(2);
        assertThat(out()).contains("UNREADABLE").contains("YAML_SYNTAX");
    }

    @Test
    void validateWithoutFilesIsAUsageError() {
        assertThat(run("policy", "validate")).isEqualTo(2);
        assertThat(err()).contains("usage:");
    }

    @Test
    void unknownSubCommandIsAUsageError() {
        assertThat(run("policy", "frobnicate")).isEqualTo(2);
        assertThat(run("policy")).isEqualTo(2);
    }

    @Test
    void explainPrintsOneJsonObjectWithTheDecidingRuleAndReasons() throws Exception {
        Path policy = file("p.yaml", POLICY);
        Path event = file("e.json", """
                {"cloud":{"provider":"azure","account":"sub-1"},"cluster":"prod",
                 "pod":{"namespace":"shop","name":"web-1","labels":{"app":"web"}},
                 "container":{"name":"nginx","image":"nginx:1.25"},
                 "drift":{"kind":"ADDED","path":"/tmp/x","sha256":null}}
                """);
        assertThat(run("policy", "explain", "--policy", policy.toString(), "--event", event.toString())).isZero();
        assertThat(out().lines()).hasSize(1);
        JsonNode json = JsonMapper.builder().build().readTree(out());
        assertThat(json.propertyNames()).containsExactly("verdict", "rule", "defaultRule", "reasons");
        assertThat(json.get("verdict").stringValue()).isEqualTo("alert");
        assertThat(json.get("rule").get("name").stringValue()).isEqualTo("shop");
        assertThat(json.get("rule").get("priority").intValue()).isEqualTo(20);
        assertThat(json.get("defaultRule").booleanValue()).isFalse();
        assertThat(json.get("reasons").size()).isEqualTo(2);
        assertThat(json.get("reasons").get(0).stringValue()).startsWith("rule 'kube' (priority 10) skipped: resourceScope[0]");
        assertThat(json.get("reasons").get(1).stringValue()).startsWith("rule 'shop' (priority 20) applies")
                .endsWith("/tmp/x is not on its allow list: alert");
    }

    @Test
    void explainReportsAllowedAndAcceptsAWholeAlertLine() throws Exception {
        Path policy = file("p.yaml", POLICY);
        Path event = file("alert.json", "{\"schemaVersion\":1,\"id\":\"x\",\"time\":\"2026-01-01T00:00:00Z\",\"alertType\":\"BinaryDrift\","
                + "\"severity\":\"high\",\"action\":\"alert\",\"node\":\"n1\",\"process\":{\"pid\":1},\"rule\":null,"
                + "\"pod\":{\"namespace\":\"shop\",\"name\":\"web\",\"uid\":\"u\",\"labels\":{\"app\":\"web\"}},"
                + "\"container\":{\"id\":\"c\",\"name\":\"n\",\"runtime\":\"containerd\",\"image\":\"i\",\"imageDigest\":\"d\"},"
                + "\"drift\":{\"kind\":\"MODIFIED\",\"path\":\"/usr/bin/pip\",\"sha256\":null,\"imagePath\":\"/usr/bin/pip\",\"layer\":\"l\"}}");
        assertThat(run("policy", "explain", "--policy", policy.toString(), "--event", event.toString())).isZero();
        assertThat(out()).startsWith("{\"verdict\":\"allowed\",\"rule\":{\"name\":\"shop\",\"priority\":20},\"defaultRule\":false,");
    }

    @Test
    void explainAcceptsAnAlertLineWithFieldsAddedAfterItWithoutANewSchemaVersion() throws Exception {
        // given an alert line as the agent writes it (mitre, count, drift.origin, process.session) and a field this
        // reader has never heard of: additive fields keep schemaVersion 1 (docs/alerts.md, "Versions")
        Path policy = file("p.yaml", POLICY);
        Path event = file("alert.json", "{\"schemaVersion\":1,\"id\":\"x\",\"time\":\"2026-01-01T00:00:00Z\","
                + "\"alertType\":\"LibraryDrift\",\"severity\":\"high\",\"action\":\"alert\",\"node\":\"n1\","
                + "\"process\":{\"pid\":1,\"session\":{\"kind\":\"exec\",\"id\":\"s\"}},\"rule\":null,"
                + "\"pod\":{\"namespace\":\"shop\",\"name\":\"web\",\"uid\":\"u\",\"labels\":{\"app\":\"web\"},\"ip\":\"x\"},"
                + "\"drift\":{\"kind\":\"ADDED\",\"path\":\"/tmp/x\",\"sha256\":null,"
                + "\"origin\":{\"pid\":9,\"remote\":\"10.0.0.9:80\"},\"entropy\":7.9},"
                + "\"mitre\":[],\"count\":2,\"futureField\":{\"a\":1}}");

        // when / then
        assertThat(run("policy", "explain", "--policy", policy.toString(), "--event", event.toString())).isZero();
        assertThat(out()).startsWith("{\"verdict\":");
    }

    @Test
    void explainOfAPolynomialRegexOnALongImageNameReturnsWithinASecond() throws Exception {
        // given a block rule whose imageName regex backtracks polynomially, and an event with a 10,000-character image
        Path policy = file("hostile.yaml", HEADER + "rules:\n  - name: hostile\n    priority: 1\n    action: block\n"
                + "    resourceScope: [{field: imageName, operator: regex, values: ['.*.*.*.*.*.*.*.*.*.*.*.*b']}]\n");
        Path event = file("long.json", "{\"container\":{\"name\":\"c\",\"image\":\"" + "a".repeat(10_000)
                + "\"},\"drift\":{\"kind\":\"ADDED\",\"path\":\"/tmp/x\",\"sha256\":null}}");

        // when explained through the CLI (its CPU time, not the wall clock: a loaded machine makes it wait, not work)
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] cpuNanos = new long[1];
        int exit = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            long before = threads.getCurrentThreadCpuTime();
            int code = run("policy", "explain", "--policy", policy.toString(), "--event", event.toString());
            cpuNanos[0] = threads.getCurrentThreadCpuTime() - before;
            return code;
        });

        // then it answers (the default rule: no 'b') with well under a second of work
        assertThat(exit).isZero();
        assertThat(out()).startsWith("{\"verdict\":\"ignore\"");
        assertThat(Duration.ofNanos(cpuNanos[0]).toMillis()).isLessThan(1_000);
    }

    @Test
    void explainOfTheDefaultRuleHasANullRule() throws Exception {
        Path policy = file("p.yaml", POLICY);
        Path event = file("e.json", "{\"drift\":{\"kind\":\"MOUNT\",\"path\":\"/data/x\"}}");
        assertThat(run("policy", "explain", "--policy", policy.toString(), "--event", event.toString())).isZero();
        assertThat(out().strip()).isEqualTo("{\"verdict\":\"ignore\",\"rule\":null,\"defaultRule\":true,\"reasons\":["
                + "\"rule 'kube' (priority 10) skipped: resourceScope[0] (namespace equals [kube-system]) does not match: namespace is unknown\","
                + "\"rule 'shop' (priority 20) skipped: resourceScope[0] (podLabels equals [app=web]) does not match: pod labels are unknown or empty\","
                + "\"no rule applies: the default rule decides ignore\"]}");
    }

    @Test
    void explainRejectsBadEventsWithExitTwo() throws Exception {
        Path policy = file("p.yaml", POLICY);
        String[][] cases = {
                {"not json", "not valid JSON"},
                {"[1]", "one JSON object"},
                {"{\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\"},\"colour\":1}", "unknown field 'colour'"},
                {"{\"drift\":{\"kind\":\"IMAGE\",\"path\":\"/x\"}}", "not a drift kind"},
                {"{\"drift\":{\"kind\":\"ADDED\"}}", "drift.path is required"},
                {"{\"pod\":{\"labels\":{\"a\":1}},\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\"}}", "pod.labels.a must be a string"},
                {"{\"cluster\":5,\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\"}}", "cluster must be a string"},
                {"{\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\"},\"drift\":{}}", "not valid JSON"},
        };
        for (String[] c : cases) {
            stderr.reset();
            Path event = file("bad.json", c[0]);
            assertThat(run("policy", "explain", "--policy", policy.toString(), "--event", event.toString()))
                    .as(c[0]).isEqualTo(2);
            assertThat(err()).as(c[0]).contains(c[1]);
        }
        assertThat(out()).isEmpty();
    }

    @Test
    void explainWithAnInvalidPolicyExitsOneAndWithMissingOptionsTwo() throws Exception {
        Path bad = file("bad.yaml", "apiVersion: x\n");
        Path event = file("e.json", "{\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\"}}");
        assertThat(run("policy", "explain", "--policy", bad.toString(), "--event", event.toString())).isEqualTo(1);
        assertThat(err()).contains("UNSUPPORTED_API_VERSION").contains("MISSING_KIND");
        assertThat(run("policy", "explain", "--policy", bad.toString())).isEqualTo(2);
        assertThat(run("policy", "explain", "--policy", dir.resolve("none.yaml").toString(), "--event", event.toString())).isEqualTo(2);
        assertThat(run("policy", "explain", "--policy", bad.toString(), "--event", dir.resolve("none.json").toString())).isEqualTo(1);
    }
}
