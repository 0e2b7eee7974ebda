package io.driftagent.reporter.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class FalcoJsonTest {

    /**
     * The fields of falcosidekick's input (its {@code types.FalcoPayload}): what it reads from Falco's JSON output.
     * Read strictly: a field drift-agent writes that is not in Falco's output fails the test.
     */
    record FalcoPayload(String uuid, String output, String priority, String rule, String time,
                        Map<String, Object> output_fields, String source, List<String> tags, String hostname) {
    }

    static final List<String> FALCO_PRIORITIES =
            List.of("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug");

    static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private final FalcoJson falco = new FalcoJson();

    @Test
    void aDriftAlertIsFalcosPayloadWithFalcoFieldNamesAndMitreTags() {
        // given
        Alert alert = SampleAlerts.full();

        // when
        FalcoPayload payload = STRICT.readValue(falco.encode(alert, 1), FalcoPayload.class);

        // then
        assertThat(payload.rule()).isEqualTo("Drifted binary executed in container");
        assertThat(payload.priority()).isEqualTo("Critical").isIn(FALCO_PRIORITIES);
        assertThat(payload.time()).isEqualTo("2026-11-27T18:22:08.123456000Z");
        assertThat(Instant.parse(payload.time())).isEqualTo(alert.time());
        assertThat(payload.source()).isEqualTo("syscall");
        assertThat(payload.hostname()).isEqualTo("node-1");
        assertThat(payload.uuid()).isEqualTo(alert.id());
        assertThat(payload.tags()).containsExactly("drift-agent", "container", "process", "drift", "drift_modified",
                "mitre_command_and_control", "mitre_defense_evasion", "T1105", "T1036.005");
        assertThat(payload.output()).startsWith("2026-11-27T18:22:08.123456000Z: Critical Drifted binary executed in"
                + " container (kind=MODIFIED path=/usr/bin/curl ").contains(" k8s.ns.name=shop k8s.pod.name=web-7d9f ")
                .endsWith(" mitre=T1105,T1036.005)");
        Map<String, Object> f = payload.output_fields();
        assertThat(f).containsEntry("evt.time", 1795803728123456000L)
                .containsEntry("evt.type", "execve")
                .containsEntry("proc.name", "curl")
                .containsEntry("proc.exepath", "/usr/bin/curl")
                .containsEntry("proc.cmdline", "curl -s http://x")
                .containsEntry("proc.pid", 4242)
                .containsEntry("proc.ppid", 4200)
                .containsEntry("proc.pexepath", "/bin/sh")
                .containsEntry("user.uid", 0)
                .containsEntry("container.id", "0123456789ab")
                .containsEntry("container.full_id", alert.container().id())
                .containsEntry("container.name", "app")
                .containsEntry("container.image", "registry.example/app:1.2")
                .containsEntry("container.image.digest", "sha256:feedbeef")
                .containsEntry("k8s.ns.name", "shop")
                .containsEntry("k8s.pod.name", "web-7d9f")
                .containsEntry("drift.kind", "MODIFIED")
                .containsEntry("drift.path", "/usr/bin/curl")
                .containsEntry("drift.image_path", "/usr/bin/curl")
                .containsEntry("drift.action", "alert")
                .containsEntry("drift.rule.name", "default-alert")
                .containsEntry("drift.rule.priority", 100)
                .containsEntry("drift.count", 1);
    }

    @Test
    void aBlockedStandaloneAlertKeepsTheShapeWithNullsWhereNothingIsKnown() {
        // given
        Alert alert = SampleAlerts.minimal("/tmp/x");

        // when
        FalcoPayload payload = STRICT.readValue(falco.encode(alert, 3), FalcoPayload.class);

        // then
        assertThat(payload.rule()).isEqualTo("Drifted binary blocked in container");
        assertThat(payload.priority()).isEqualTo("Warning");
        assertThat(payload.tags()).containsExactly("drift-agent", "container", "process", "drift", "drift_unresolved",
                "blocked");
        assertThat(payload.hostname()).isNull();
        assertThat(payload.output_fields()).containsEntry("k8s.ns.name", null).containsEntry("container.id", null)
                .containsEntry("drift.reason", "container gone").containsEntry("drift.count", 3);
        assertThat(payload.output()).contains("container.id=<NA>").endsWith(" count=3)");
    }

    @Test
    void aLibraryDriftHasItsOwnRuleTheMmapEventTypeAndTheLibraryTag() {
        // given
        Alert alert = SampleAlerts.library("/tmp/evil.so", "ADDED");

        // when
        FalcoPayload payload = STRICT.readValue(falco.encode(alert, 1), FalcoPayload.class);

        // then
        assertThat(payload.rule()).isEqualTo("Drifted library loaded in container").isEqualTo(FalcoJson.rule(alert));
        assertThat(payload.tags()).containsExactly("drift-agent", "container", "process", "drift", "drift_added",
                "library", "mitre_command_and_control", "mitre_defense_evasion", "T1105", "T1574.006");
        assertThat(payload.output()).contains("Warning Drifted library loaded in container (kind=ADDED path=/tmp/evil.so ")
                .contains(" proc.exepath=/usr/bin/app ").endsWith(" mitre=T1105,T1574.006)");
        assertThat(payload.output_fields()).containsEntry("evt.type", "mmap")
                .containsEntry("proc.exepath", "/usr/bin/app")
                .containsEntry("drift.alert_type", "LibraryDrift");
    }

    @Test
    void provenanceGoesToFalcosAncestorFieldsAndDriftOriginFields() {
        // given a download run in an exec session
        Alert base = SampleAlerts.full();
        Alert alert = new Alert(base.schemaVersion(), base.id(), base.time(), base.alertType(), base.severity(),
                base.action(), new Alert.Drift("ADDED", "/tmp/d", null, null, null, null, null,
                        new Alert.Origin(51, "/bin/busybox", List.of("wget", "-O", "/tmp/d", "http://127.0.0.1:8080/x"),
                                base.time(), "127.0.0.1:8080", null)),
                new Alert.Process(53, 52, 0, "/tmp/d", List.of("/tmp/d"), new Alert.Parent(52, "/bin/sh"), 0, 1000,
                        4L, "/tmp", List.of(new Alert.Ancestor(52, "/bin/sh", List.of("sh")),
                                new Alert.Ancestor(50, "/bin/bash", List.of("bash"))),
                        new Alert.Session(Alert.SessionKind.exec, "exec-50")),
                base.container(), base.pod(), base.node(), base.cluster(), base.cloud(), base.rule());

        // when
        FalcoPayload payload = STRICT.readValue(falco.encode(alert, 1), FalcoPayload.class);

        // then
        assertThat(payload.output_fields())
                .containsEntry("proc.apid[1]", 52).containsEntry("proc.aexepath[1]", "/bin/sh")
                .containsEntry("proc.apid[2]", 50).containsEntry("proc.aexepath[2]", "/bin/bash")
                .containsEntry("proc.cwd", "/tmp").containsEntry("user.loginuid", 1000)
                .containsEntry("drift.origin.pid", 51).containsEntry("drift.origin.exe", "/bin/busybox")
                .containsEntry("drift.origin.cmdline", "wget -O /tmp/d http://127.0.0.1:8080/x")
                .containsEntry("drift.origin.remote", "127.0.0.1:8080")
                .containsEntry("drift.session.kind", "exec").containsEntry("drift.session.id", "exec-50");
    }

    @Test
    void severitiesMapToFalcoPriorities() {
        assertThat(FalcoJson.priority(Alert.Severity.high)).isEqualTo("Critical");
        assertThat(FalcoJson.priority(Alert.Severity.medium)).isEqualTo("Warning");
        assertThat(FalcoJson.priority(Alert.Severity.low)).isEqualTo("Notice");
    }

    @Test
    void hostileStringsStayOnOneLineInTheFalcoLineToo() throws Exception {
        // given a path and arguments with line breaks, a terminal escape and a U+2028
        Alert base = SampleAlerts.full();
        Alert alert = new Alert(base.schemaVersion(), base.id(), base.time(), base.alertType(), base.severity(),
                base.action(), new Alert.Drift("ADDED", "/tmp/a\nb\u2028c\u009b", null, null, null, null),
                new Alert.Process(1, 0, 0, "/tmp/a\nb", List.of("x\r\ny", "\u001b[31m"), null), base.container(),
                base.pod(), base.node(), base.cluster(), base.cloud(), base.rule());
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        // when written by the JSON-lines sink in Falco format
        try (JsonLinesSink sink = new JsonLinesSink("falco", out, true, AlertFormat.FALCO)) {
            sink.publish(alert, 1);
            sink.publish(SampleAlerts.full(), 1);
        }

        // then exactly two lines, each one Falco payload, the path intact after parsing
        String text = out.toString(StandardCharsets.UTF_8);
        List<String> lines = text.lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(text).doesNotContain("\u2028").doesNotContain("\u009b").doesNotContain("\u001b");
        FalcoPayload first = STRICT.readValue(lines.get(0), FalcoPayload.class);
        assertThat(first.output_fields().get("drift.path")).isEqualTo("/tmp/a\nb\u2028c\u009b");
        assertThat(first.output_fields().get("proc.cmdline")).isEqualTo("x\r\ny \u001b[31m");
        JsonNode second = STRICT.readTree(lines.get(1));
        assertThat(second.get("rule").asString()).isEqualTo("Drifted binary executed in container");
    }
}
