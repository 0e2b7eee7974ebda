package io.driftagent.reporter.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.json.FalcoJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class BodyTemplateTest {

    private final JsonMapper mapper = JsonMapper.builder().build();

    private JsonNode render(String template, Alert alert) {
        return mapper.readTree(BodyTemplate.parse(template).encode(alert, 1));
    }

    private static Alert withPath(String path) {
        Alert a = SampleAlerts.full();
        return new Alert(a.schemaVersion(), a.id(), a.time(), a.alertType(), a.severity(), a.action(),
                new Alert.Drift("ADDED", path, null, null, null, null), a.process(), a.container(), a.pod(), a.node(),
                a.cluster(), a.cloud(), a.rule());
    }

    @Test
    void outsideAStringAPlaceholderIsTheJsonValueInsideAStringItsEscapedText() {
        // given a Slack-style message with a hostile path (quotes, a line break, a JSON fragment)
        Alert alert = withPath("/tmp/\"},\"x\":\"\n{{drift.kind}}");
        String template = "{\"text\": \"{{falco.priority}}: {{drift.kind}} {{drift.path}} in {{pod.namespace}}/{{pod.name}}\","
                + " \"path\": {{drift.path}}, \"pid\": {{process.pid}}, \"labels\": {{pod.labels}},"
                + " \"cmdline\": {{process.cmdline}}, \"mitre\": {{mitre.ids}}, \"count\": {{ count }}}";

        // when
        JsonNode body = render(template, alert);

        // then the path cannot break out of its string, and values keep their JSON types
        assertThat(body.properties()).extracting(e -> e.getKey())
                .containsExactly("text", "path", "pid", "labels", "cmdline", "mitre", "count");
        assertThat(body.get("text").asString())
                .isEqualTo("Critical: ADDED /tmp/\"},\"x\":\"\n{{drift.kind}} in shop/web-7d9f");
        assertThat(body.get("path").asString()).isEqualTo("/tmp/\"},\"x\":\"\n{{drift.kind}}");
        assertThat(body.get("pid").isInt()).isTrue();
        assertThat(body.get("labels").get("tier").asString()).isEqualTo("front");
        assertThat(body.get("cmdline").size()).isEqualTo(3);
        assertThat(body.get("mitre").get(0).asString()).isEqualTo("T1105");
        assertThat(body.get("count").asInt()).isEqualTo(1);
        assertThat(new String(BodyTemplate.parse(template).encode(alert, 1), StandardCharsets.UTF_8)).doesNotContain("\n");
    }

    @Test
    void unknownValuesAreNullOutsideAStringAndEmptyInsideOne() {
        // given a standalone alert: no pod, no sha256
        Alert alert = SampleAlerts.minimal("/tmp/x");

        // when
        JsonNode body = render("{\"ns\": {{pod.namespace}}, \"where\": \"ns={{pod.namespace}};\", \"sha\": {{drift.sha256}},"
                + " \"prio\": {{rule.priority}}}", alert);

        // then
        assertThat(body.get("ns").isNull()).isTrue();
        assertThat(body.get("where").asString()).isEqualTo("ns=;");
        assertThat(body.get("sha").isNull()).isTrue();
        assertThat(body.get("prio").isNull()).isTrue();
    }

    @Test
    void wholeDocumentsCanBeWrappedForElasticOrFalcosidekick() {
        // when
        JsonNode body = render("{\"@timestamp\": {{time}}, \"falco\": {{falco}}, \"drift\": {{alert}}}", SampleAlerts.full());

        // then
        assertThat(body.get("@timestamp").asString()).isEqualTo("2026-11-27T18:22:08.123Z");
        assertThat(body.get("falco")).isEqualTo(mapper.readTree(new FalcoJson().encode(SampleAlerts.full(), 1)));
        assertThat(body.get("drift").get("mitre").get(1).get("id").asString()).isEqualTo("T1036.005");
    }

    @Test
    void badTemplatesAreRejectedNamingTheProblem() {
        assertThatThrownBy(() -> BodyTemplate.parse("{\"p\": {{drift.paht}}}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown placeholder {{drift.paht}}")
                .hasMessageContaining("drift.path");
        assertThatThrownBy(() -> BodyTemplate.parse("{\"p\": {{drift.path}"))
                .hasMessageContaining("unterminated placeholder at offset 6");
        assertThatThrownBy(() -> BodyTemplate.parse("{\"p\": \"{{drift.path}}}"))
                .hasMessageContaining("does not render valid JSON");
        assertThatThrownBy(() -> BodyTemplate.parse("{\"p\": {{drift.path}} {{node}}}"))
                .hasMessageContaining("does not render valid JSON");
        assertThatThrownBy(() -> BodyTemplate.parse("  ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> BodyTemplate.parse("\"" + "x".repeat(BodyTemplate.MAX_LENGTH) + "\""))
                .hasMessageContaining("longer than");
    }

    @Test
    void everyPlaceholderIsDocumentedInTheAlertsPage() throws Exception {
        // given the placeholders listed in docs/alerts.md, "Body template"
        String doc = Files.readString(Path.of("..", "docs", "alerts.md"));
        int start = doc.indexOf("### Body template");
        assertThat(start).as("docs/alerts.md has a 'Body template' section").isPositive();
        String section = doc.substring(start, doc.indexOf("\n## ", start));
        Matcher m = Pattern.compile("`\\{\\{([a-zA-Z0-9.]+)}}`").matcher(section);
        List<String> documented = m.results().map(r -> r.group(1)).distinct().sorted().toList();

        // then they are exactly the placeholders the template accepts
        assertThat(documented).containsExactlyInAnyOrderElementsOf(BodyTemplate.placeholders());
    }
}
