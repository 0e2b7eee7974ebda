package io.driftagent.reporter.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class AlertJsonTest {

    private final AlertJson json = new AlertJson();
    private final JsonMapper mapper = JsonMapper.builder().build();

    @Test
    void fullAlertIsWrittenExactlyInTheContractsFieldOrder() {
        // given
        Alert alert = SampleAlerts.full();

        // when
        String line = new String(json.toLine(alert, 1), StandardCharsets.UTF_8);

        // then
        assertThat(line).isEqualTo("{\"schemaVersion\":1,\"id\":\"3f0c2a8e-6f9b-4d7e-9a51-0c7b2f1d9e44\","
                + "\"time\":\"2026-11-27T18:22:08.123Z\",\"alertType\":\"BinaryDrift\",\"severity\":\"high\","
                + "\"action\":\"alert\",\"drift\":{\"kind\":\"MODIFIED\",\"path\":\"/usr/bin/curl\","
                + "\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
                + "\"imagePath\":\"/usr/bin/curl\",\"layer\":\"sha256:1a2b3c\"},"
                + "\"process\":{\"pid\":4242,\"ppid\":4200,\"uid\":0,\"exe\":\"/usr/bin/curl\","
                + "\"cmdline\":[\"curl\",\"-s\",\"http://x\"],\"parent\":{\"pid\":4200,\"exe\":\"/bin/sh\"},"
                + "\"euid\":null,\"loginUid\":null,\"auditSessionId\":null,\"cwd\":null,\"ancestors\":[],\"session\":null},"
                + "\"container\":{\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                + "\"name\":\"app\",\"runtime\":\"containerd\",\"image\":\"registry.example/app:1.2\","
                + "\"imageDigest\":\"sha256:feedbeef\"},"
                + "\"pod\":{\"name\":\"web-7d9f\",\"namespace\":\"shop\",\"uid\":\"5b7d3c1e-1111-2222-3333-444455556666\","
                + "\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},"
                + "\"node\":\"node-1\",\"cluster\":\"prod-eu\",\"cloud\":{\"provider\":\"azure\",\"account\":\"sub-123\"},"
                + "\"rule\":{\"name\":\"default-alert\",\"priority\":100},"
                + "\"mitre\":[{\"id\":\"T1105\",\"name\":\"Ingress Tool Transfer\",\"tactic\":\"command-and-control\"},"
                + "{\"id\":\"T1036.005\",\"name\":\"Masquerading: Match Legitimate Name or Location\","
                + "\"tactic\":\"defense-evasion\"}]}\n");
    }

    @Test
    void optionalDriftFieldsAreOmittedAndUnknownPartsAreNull() {
        // given a standalone, unresolved alert
        Alert alert = SampleAlerts.minimal("/tmp/x");

        // when
        JsonNode node = mapper.readTree(json.toBytes(alert, 1));

        // then
        assertThat(fieldNames(node)).containsExactly("schemaVersion", "id", "time", "alertType", "severity", "action",
                "drift", "process", "container", "pod", "node", "cluster", "cloud", "rule", "mitre");
        assertThat(node.get("mitre").isArray()).isTrue();
        assertThat(node.get("mitre").size()).as("UNRESOLVED establishes no technique").isZero();
        assertThat(fieldNames(node.get("drift"))).containsExactly("kind", "path", "sha256", "reason");
        assertThat(node.get("drift").get("sha256").isNull()).isTrue();
        assertThat(node.get("drift").get("reason").asString()).isEqualTo("container gone");
        assertThat(fieldNames(node.get("process"))).containsExactly("pid", "ppid", "uid", "exe", "cmdline", "parent",
                "euid", "loginUid", "auditSessionId", "cwd", "ancestors", "session");
        assertThat(node.get("process").get("exe").isNull()).isTrue();
        assertThat(node.get("process").get("ancestors").size()).isZero();
        assertThat(node.get("process").get("session").isNull()).isTrue();
        assertThat(node.get("process").get("cmdline").size()).isZero();
        assertThat(node.get("process").get("parent").isNull()).isTrue();
        for (String part : List.of("container", "pod", "node", "cluster", "cloud", "rule")) {
            assertThat(node.get(part).isNull()).as(part).isTrue();
        }
        assertThat(node.get("alertType").asString()).isEqualTo("BinaryDriftBlocked");
    }

    @Test
    void provenanceNamesTheWriterItsPeerTheAncestorsAndTheSessionAfterTheKnownFields() {
        // given a file written by a download in an exec session, then run
        Alert base = SampleAlerts.full();
        Alert.Origin origin = new Alert.Origin(5100, "/usr/bin/wget", List.of("wget", "http://10.0.0.9:8080/x"),
                Instant.parse("2026-11-27T18:22:01.5Z"), "10.0.0.9:8080", null);
        Alert.Process process = new Alert.Process(4242, 4200, 0, "/tmp/x", List.of("/tmp/x"),
                new Alert.Parent(4200, "/bin/sh"), 0, 1000, 7L, "/tmp",
                List.of(new Alert.Ancestor(4200, "/bin/sh", List.of("sh")),
                        new Alert.Ancestor(4100, "/bin/bash", List.of("bash", "-i"))),
                new Alert.Session(Alert.SessionKind.exec, "exec-4100-1"));
        Alert alert = new Alert(base.schemaVersion(), base.id(), base.time(), base.alertType(), base.severity(),
                base.action(), new Alert.Drift("ADDED", "/tmp/x", null, null, null, null, null, origin), process,
                base.container(), base.pod(), base.node(), base.cluster(), base.cloud(), base.rule());

        // when
        JsonNode node = mapper.readTree(json.toBytes(alert, 1));

        // then
        JsonNode o = node.get("drift").get("origin");
        assertThat(fieldNames(o)).containsExactly("pid", "exe", "cmdline", "time", "remote", "reason");
        assertThat(o.get("pid").asInt()).isEqualTo(5100);
        assertThat(o.get("cmdline").get(1).asString()).isEqualTo("http://10.0.0.9:8080/x");
        assertThat(o.get("time").asString()).isEqualTo("2026-11-27T18:22:01.500Z");
        assertThat(o.get("remote").asString()).isEqualTo("10.0.0.9:8080");
        assertThat(o.get("reason").isNull()).isTrue();
        JsonNode p = node.get("process");
        assertThat(p.get("euid").asInt()).isZero();
        assertThat(p.get("loginUid").asInt()).isEqualTo(1000);
        assertThat(p.get("auditSessionId").asLong()).isEqualTo(7L);
        assertThat(p.get("cwd").asString()).isEqualTo("/tmp");
        assertThat(p.get("ancestors").get(1).get("exe").asString()).isEqualTo("/bin/bash");
        assertThat(p.get("ancestors").get(1).get("cmdline").get(1).asString()).isEqualTo("-i");
        assertThat(p.get("session").get("kind").asString()).isEqualTo("exec");
        assertThat(p.get("session").get("id").asString()).isEqualTo("exec-4100-1");
    }

    @Test
    void anUnknownWriterIsAnOriginWithOnlyItsReason() {
        // given
        Alert base = SampleAlerts.minimal("/tmp/x");
        Alert alert = new Alert(base.schemaVersion(), base.id(), base.time(), base.alertType(), base.severity(),
                base.action(), new Alert.Drift("ADDED", "/tmp/x", null, null, null, null)
                        .withOrigin(Alert.Origin.unknown("written before the agent started")),
                base.process(), null, null, null, null, null, null);

        // when
        JsonNode o = mapper.readTree(json.toBytes(alert, 1)).get("drift").get("origin");

        // then
        assertThat(o.get("pid").isNull()).isTrue();
        assertThat(o.get("exe").isNull()).isTrue();
        assertThat(o.get("cmdline").size()).isZero();
        assertThat(o.get("remote").isNull()).isTrue();
        assertThat(o.get("reason").asString()).isEqualTo("written before the agent started");
    }

    @Test
    void moreThanEightAncestorsAreCutToTheNearestEight() {
        List<Alert.Ancestor> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ten.add(new Alert.Ancestor(100 - i, "/bin/sh", List.of("sh")));
        }
        Alert.Process p = new Alert.Process(1, 100, 0, null, null, null, null, null, null, null, ten, null);
        assertThat(p.ancestors()).hasSize(Alert.Process.MAX_ANCESTORS);
        assertThat(p.ancestors().get(0).pid()).isEqualTo(100);
    }

    @Test
    void aParentAndUidTheSourceCouldNotLearnAreNullNotZero() {
        // given an exec whose process was gone before its source read /proc (fanotify): ppid 0, uid -1
        Alert known = SampleAlerts.full();
        Alert alert = new Alert(known.schemaVersion(), known.id(), known.time(), known.alertType(), known.severity(),
                known.action(), known.drift(), new Alert.Process(4242, 0, -1, null, List.of(), null), known.container(),
                known.pod(), known.node(), known.cluster(), known.cloud(), known.rule());

        // when
        JsonNode process = mapper.readTree(json.toBytes(alert, 1)).get("process");

        // then
        assertThat(fieldNames(process)).startsWith("pid", "ppid", "uid", "exe", "cmdline", "parent");
        assertThat(process.get("pid").asInt()).isEqualTo(4242);
        assertThat(process.get("ppid").isNull()).as(process.toString()).isTrue();
        assertThat(process.get("uid").isNull()).as(process.toString()).isTrue();
    }

    @Test
    void countIsWrittenLastAndOnlyForSummariesOfSeveralOccurrences() {
        // given
        Alert alert = SampleAlerts.full();

        // when
        JsonNode single = mapper.readTree(json.toBytes(alert, 1));
        JsonNode summary = mapper.readTree(json.toBytes(alert, 7));

        // then
        assertThat(single.has("count")).isFalse();
        assertThat(fieldNames(summary)).last().isEqualTo("count");
        assertThat(summary.get("count").asInt()).isEqualTo(7);
    }

    @Test
    void aPathThatIsNotUtf8IsWrittenReadableWithItsExactBytesInPathBytes() {
        // given the drift of a file named "/tmp/latin" 0xE9 "X" (the agent's byte-preserving String plus its bytes)
        Alert base = SampleAlerts.full();
        Alert alert = new Alert(1, "id", base.time(), base.alertType(), base.severity(), base.action(),
                new Alert.Drift("ADDED", "/tmp/latin\uDCE9X", null, null, null, null, "L3RtcC9sYXRpbulY"),
                base.process(), base.container(), base.pod(), null, null, null, null);

        // when
        JsonNode drift = mapper.readTree(json.toBytes(alert, 1)).get("drift");

        // then
        assertThat(drift.get("path").asString()).isEqualTo("/tmp/latin\uFFFDX");
        assertThat(java.util.Base64.getDecoder().decode(drift.get("pathBytes").asString()))
                .isEqualTo(new byte[] {'/', 't', 'm', 'p', '/', 'l', 'a', 't', 'i', 'n', (byte) 0xE9, 'X'});
        assertThat(fieldNames(drift)).containsSubsequence("path", "pathBytes", "sha256");
    }

    @Test
    void hostileStringsNeverBreakTheOneLinePerAlertFraming() throws CharacterCodingException {
        // given file names and arguments an attacker controls inside the container
        String hostilePath = "/tmp/a\nb\rc\u2028d\u2029e\u0085f\u001b[31mred\u007fg\u0000h\"i\\j";
        String loneHigh = "/tmp/\uD800x";
        String loneLow = "/tmp/\uDC00";
        String reversedPair = "\uDC00\uD800";
        String validPair = "/tmp/\uD83D\uDE00";
        Alert base = SampleAlerts.full();
        Alert alert = new Alert(1, "id\n2", base.time(), base.alertType(), base.severity(), base.action(),
                new Alert.Drift("ADDED", hostilePath, null, null, null, null),
                new Alert.Process(1, 0, 0, loneHigh, List.of(loneLow, reversedPair, validPair, "\r\n"), null),
                base.container(), new Alert.Pod("p", "ns", "u", Map.of("k\nk", "v\u2028v")), null, null, null, null);

        // when
        byte[] line = json.toLine(alert, 1);

        // then: exactly one line break, at the end; no CR, no raw separators; valid UTF-8
        String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line)).toString();
        assertThat(text.indexOf('\n')).isEqualTo(text.length() - 1);
        assertThat(text).doesNotContain("\r", "\u2028", "\u2029", "\u0085", "\u001b", "\u007f", "\u0000");
        // and it reads back to the same strings, surrogate garbage replaced by U+FFFD
        JsonNode node = mapper.readTree(line);
        assertThat(node.get("id").asString()).isEqualTo("id\n2");
        assertThat(node.get("drift").get("path").asString()).isEqualTo(hostilePath);
        assertThat(node.get("process").get("exe").asString()).isEqualTo("/tmp/\uFFFDx");
        List<String> cmdline = new ArrayList<>();
        node.get("process").get("cmdline").forEach(n -> cmdline.add(n.asString()));
        assertThat(cmdline).containsExactly("/tmp/\uFFFD", "\uFFFD\uFFFD", validPair, "\r\n");
        assertThat(node.get("pod").get("labels").get("k\nk").asString()).isEqualTo("v\u2028v");
    }

    @Test
    void hugeArgumentsAndArgumentListsAreCutVisiblySoALineStaysBounded() {
        // given a 1 MiB argument and 10 000 arguments
        String huge = "A".repeat(1 << 20);
        List<String> many = new ArrayList<>();
        many.add(huge);
        for (int i = 1; i < 10_000; i++) {
            many.add("arg" + i);
        }
        Alert base = SampleAlerts.full();
        Alert alert = new Alert(1, "id", base.time(), base.alertType(), base.severity(), base.action(), base.drift(),
                new Alert.Process(1, 0, 0, "/bin/x", many, null), base.container(), base.pod(), base.node(),
                base.cluster(), base.cloud(), base.rule());

        // when
        byte[] line = json.toLine(alert, 1);

        // then
        assertThat(line.length).isLessThan(16 * 1024);
        JsonNode cmdline = mapper.readTree(line).get("process").get("cmdline");
        assertThat(cmdline.size()).isEqualTo(AlertJson.MAX_ARGS + 1);
        assertThat(cmdline.get(0).asString()).hasSize(AlertJson.MAX_STRING + AlertJson.TRUNCATED.length())
                .endsWith(AlertJson.TRUNCATED);
        assertThat(cmdline.get(AlertJson.MAX_ARGS).asString())
                .isEqualTo(AlertJson.TRUNCATED + " " + (10_000 - AlertJson.MAX_ARGS) + " more arguments");
    }

    @Test
    void timeIsRfc3339UtcWithMilliseconds() {
        assertThat(AlertJson.formatTime(Instant.parse("2026-01-02T03:04:05Z")))
                .isEqualTo("2026-01-02T03:04:05.000Z");
        assertThat(AlertJson.formatTime(Instant.parse("2026-01-02T03:04:05.987654321Z")))
                .isEqualTo("2026-01-02T03:04:05.987Z");
        assertThat(AlertJson.formatTime(Instant.parse("1970-01-01T00:00:00.001Z")))
                .isEqualTo("1970-01-01T00:00:00.001Z");
        assertThat(AlertJson.formatTime(Instant.parse("1969-12-31T23:59:59.999Z")))
                .isEqualTo("1969-12-31T23:59:59.999Z");
        assertThat(AlertJson.formatTime(Instant.parse("+12026-11-27T18:22:08.120Z")))
                .isEqualTo("+12026-11-27T18:22:08.120Z");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        Iterator<String> it = node.propertyNames().iterator();
        it.forEachRemaining(names::add);
        return names;
    }
}
