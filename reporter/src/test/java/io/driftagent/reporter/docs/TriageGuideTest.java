package io.driftagent.reporter.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.json.AlertJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * docs/triage.md tells responders which alert field answers which question and gives queries for four log stores.
 * A field name that the alert does not have makes a query that silently finds nothing: every field the guide names
 * must be one the agent writes.
 */
class TriageGuideTest {
    private static final Pattern DOTTED = Pattern.compile(
            "\\b((?:drift|process|container|pod|rule|cloud|mitre)(?:\\[])?(?:\\.[A-Za-z0-9]+(?:\\{}|\\[\\d*])?)+)");
    private static final Pattern LOKI_LABEL = Pattern.compile(
            "\\b((?:drift|process|container|pod)_[a-z0-9_]+)\\b");
    private static final Set<String> NOT_FIELDS = Set.of("container.image.keyword", "drift.sha256.keyword",
            "pod.name.keyword");

    private static String guide;
    private static JsonNode alert;
    private static Set<String> flattenedLabels;

    @BeforeAll
    static void readTheGuideAndAFullAlert() throws IOException {
        guide = Files.readString(Path.of("..", "docs", "triage.md"));
        Alert base = SampleAlerts.full();
        Alert full = new Alert(base.schemaVersion(), base.id(), base.time(), base.alertType(), base.severity(),
                base.action(),
                new Alert.Drift("MODIFIED", "/tmp/x", "ab", "/usr/bin/x", "sha256:l", "r", null,
                        new Alert.Origin(7, "/bin/busybox", java.util.List.of("wget", "http://h/x"), Instant.EPOCH,
                                "10.0.0.9:80", null)),
                new Alert.Process(8, 7, 0, "/tmp/x", java.util.List.of("/tmp/x"), new Alert.Parent(7, "/bin/sh"), 0,
                        1000, 3L, "/tmp", java.util.List.of(new Alert.Ancestor(7, "/bin/sh", java.util.List.of("sh"))),
                        new Alert.Session(Alert.SessionKind.exec, "s-1")),
                base.container(), base.pod(), base.node(), base.cluster(), base.cloud(), base.rule());
        alert = JsonMapper.builder().build().readTree(new AlertJson().toBytes(full, 1));
        flattenedLabels = new TreeSet<>();
        flatten(alert, "", flattenedLabels);
    }

    @Test
    void everyDottedFieldTheGuideNamesIsOneTheAlertHas() {
        Matcher m = DOTTED.matcher(guide);
        Set<String> named = new TreeSet<>();
        while (m.find()) {
            named.add(m.group(1));
        }
        assertThat(named).as("the guide names fields").hasSizeGreaterThan(20);
        for (String field : named) {
            if (NOT_FIELDS.contains(field)) {
                continue;
            }
            assertThat(resolve(field)).as("docs/triage.md names '%s'", field).isNotNull();
        }
    }

    @Test
    void everyLokiLabelTheGuideUsesIsAFlattenedAlertField() {
        int start = guide.indexOf("### Loki");
        assertThat(start).as("docs/triage.md has a Loki section").isPositive();
        int end = guide.indexOf("\n### ", start + 1);
        Matcher m = LOKI_LABEL.matcher(guide.substring(start, end < 0 ? guide.length() : end));
        Set<String> used = new TreeSet<>();
        while (m.find()) {
            used.add(m.group(1));
        }
        assertThat(used).as("the Loki queries use labels").contains("process_session_id", "drift_sha256");
        assertThat(flattenedLabels).as("labels `| json` makes of an alert").containsAll(used);
    }

    /** The node at a dotted path; {@code []}, {@code [0]} and {@code {}} step into an array's first element. */
    private static JsonNode resolve(String path) {
        JsonNode node = alert;
        for (String step : path.split("\\.")) {
            boolean array = step.endsWith("[]") || step.endsWith("{}") || step.matches(".*\\[\\d+]");
            String name = step.replaceAll("(\\[\\d*]|\\{})$", "");
            node = node == null ? null : node.get(name);
            if (node != null && array) {
                node = node.isArray() && !node.isEmpty() ? node.get(0) : null;
            }
        }
        return node;
    }

    /** Loki's `| json`: nested keys joined with underscores; arrays are not turned into labels. */
    private static void flatten(JsonNode node, String prefix, Set<String> into) {
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String name = prefix.isEmpty() ? e.getKey() : prefix + "_" + e.getKey();
            if (e.getValue().isObject()) {
                flatten(e.getValue(), name, into);
            } else if (!e.getValue().isArray()) {
                into.add(name);
            }
        }
    }
}
