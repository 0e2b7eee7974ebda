package io.driftagent.reporter.webhook;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.MitreAttack;
import io.driftagent.reporter.alert.MitreTechnique;
import io.driftagent.reporter.json.AlertEncoder;
import io.driftagent.reporter.json.AlertJson;
import io.driftagent.reporter.json.FalcoJson;
import io.driftagent.reporter.json.LineSafeEscapes;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * The webhook's request body written from a template: a JSON document with {@code {{field}}} placeholders over the
 * alert's fields (docs/alerts.md, "Body template"). No logic, no functions, nothing but field look-ups:
 * <ul>
 *   <li>outside a JSON string, a placeholder becomes the field's JSON value: a quoted, escaped string, a number,
 *       {@code null}, or an object/array ({@code {{alert}}}, {@code {{falco}}}, {@code {{mitre}}}, ...);</li>
 *   <li>inside a JSON string ({@code "…{{drift.path}}…"}), it becomes the field's text, escaped for a JSON string;
 *       {@code null} becomes the empty text.</li>
 * </ul>
 * So whatever a container puts in a path or a label, the body stays the JSON the template describes. An unknown
 * placeholder, an unterminated one, or a template that does not render valid JSON is an error at parse time.
 * Thread-safe once parsed.
 */
public final class BodyTemplate implements AlertEncoder {

    /** Longest template accepted: a body template is a small wrapper around the alert, not a document store. */
    public static final int MAX_LENGTH = 16 * 1024;

    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)*");
    private static final Map<String, BiFunction<Alert, Integer, Object>> FIELDS = fields();
    private static final JsonFactory FACTORY = JsonFactory.builder().characterEscapes(new LineSafeEscapes()).build();

    private final String source;
    private final List<Segment> segments;
    private final AlertJson alertJson = new AlertJson();
    private final FalcoJson falcoJson = new FalcoJson();

    private BodyTemplate(String source, List<Segment> segments) {
        this.source = source;
        this.segments = List.copyOf(segments);
    }

    /** The placeholder names a template may use, sorted. */
    public static List<String> placeholders() {
        return FIELDS.keySet().stream().sorted().toList();
    }

    /**
     * Parses {@code template} and checks that it renders valid JSON for a complete and for a sparse alert.
     *
     * @throws IllegalArgumentException naming the problem and its offset in the template
     */
    public static BodyTemplate parse(String template) {
        Objects.requireNonNull(template, "template");
        if (template.isBlank()) {
            throw new IllegalArgumentException("the template is empty");
        }
        if (template.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("the template is longer than " + MAX_LENGTH + " characters");
        }
        List<Segment> segments = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        boolean inString = false;
        int i = 0;
        while (i < template.length()) {
            if (template.startsWith("{{", i)) {
                int end = template.indexOf("}}", i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated placeholder at offset " + i + ": '{{' without '}}'");
                }
                String name = template.substring(i + 2, end).trim();
                if (!FIELDS.containsKey(name)) {
                    throw new IllegalArgumentException("unknown placeholder {{" + name + "}} at offset " + i
                            + (NAME.matcher(name).matches() ? "" : " (not a field name)") + "; known: "
                            + String.join(", ", placeholders()));
                }
                if (!literal.isEmpty()) {
                    segments.add(new Literal(literal.toString()));
                    literal.setLength(0);
                }
                segments.add(new Placeholder(name, inString));
                i = end + 2;
                continue;
            }
            char c = template.charAt(i);
            literal.append(c);
            if (inString && c == '\\' && i + 1 < template.length()) {
                literal.append(template.charAt(i + 1));
                i += 2;
                continue;
            }
            if (c == '"') {
                inString = !inString;
            }
            i++;
        }
        if (!literal.isEmpty()) {
            segments.add(new Literal(literal.toString()));
        }
        BodyTemplate parsed = new BodyTemplate(template, segments);
        parsed.requireJson(SampleAlert.complete());
        parsed.requireJson(SampleAlert.sparse());
        return parsed;
    }

    private void requireJson(Alert sample) {
        byte[] body = encode(sample, 2);
        try {
            JsonMapper.builder().build().readTree(body);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("the template does not render valid JSON: " + e.getOriginalMessage()
                    + " (rendered for a sample alert: " + new String(body, StandardCharsets.UTF_8) + ")");
        }
    }

    /** The template text as configured. */
    public String source() {
        return source;
    }

    @Override
    public byte[] encode(Alert alert, int count) {
        StringBuilder body = new StringBuilder(source.length() + 512);
        for (Segment segment : segments) {
            if (segment instanceof Literal literal) {
                body.append(literal.text());
            } else {
                Placeholder p = (Placeholder) segment;
                Object value = valueOf(p.name(), alert, count);
                if (p.inString()) {
                    body.append(escapedText(text(value)));
                } else {
                    body.append(json(value));
                }
            }
        }
        return body.toString().getBytes(StandardCharsets.UTF_8);
    }

    private Object valueOf(String name, Alert alert, int count) {
        switch (name) {
            case "alert":
                return RawJson.of(new String(alertJson.encode(alert, count), StandardCharsets.UTF_8));
            case "falco":
                return RawJson.of(new String(falcoJson.encode(alert, count), StandardCharsets.UTF_8));
            default:
                return FIELDS.get(name).apply(alert, count);
        }
    }

    private static String text(Object value) {
        if (value == null) {
            return "";
        }
        if (value instanceof RawJson raw) {
            return raw.text();
        }
        return value.toString();
    }

    private static String json(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Number) {
            return value.toString();
        }
        if (value instanceof RawJson raw) {
            return raw.json();
        }
        return quoted(value.toString());
    }

    private static String escapedText(String text) {
        String quoted = quoted(text);
        return quoted.substring(1, quoted.length() - 1);
    }

    /** A JSON string literal; the alert serializers already bound and sanitize what comes from the container. */
    private static String quoted(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() + 16);
        try (JsonGenerator g = FACTORY.createGenerator(ObjectWriteContext.empty(), out)) {
            g.writeString(LineSafeEscapes.sanitize(text));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static Map<String, BiFunction<Alert, Integer, Object>> fields() {
        Map<String, BiFunction<Alert, Integer, Object>> f = new LinkedHashMap<>();
        f.put("alert", (a, n) -> null);
        f.put("falco", (a, n) -> null);
        f.put("falco.priority", (a, n) -> FalcoJson.priority(a.severity()));
        f.put("falco.rule", (a, n) -> FalcoJson.rule(a));
        f.put("schemaVersion", (a, n) -> a.schemaVersion());
        f.put("id", (a, n) -> a.id());
        f.put("time", (a, n) -> AlertJson.formatTime(a.time()));
        f.put("epochSeconds", (a, n) -> a.time().getEpochSecond());
        f.put("alertType", (a, n) -> a.alertType().name());
        f.put("severity", (a, n) -> a.severity().name());
        f.put("action", (a, n) -> a.action());
        f.put("count", (a, n) -> n);
        f.put("drift.kind", (a, n) -> a.drift().kind());
        f.put("drift.path", (a, n) -> a.drift().path());
        f.put("drift.pathBytes", (a, n) -> a.drift().pathBytes());
        f.put("drift.sha256", (a, n) -> a.drift().sha256());
        f.put("drift.imagePath", (a, n) -> a.drift().imagePath());
        f.put("drift.layer", (a, n) -> a.drift().layer());
        f.put("drift.reason", (a, n) -> a.drift().reason());
        f.put("drift.origin.pid", (a, n) -> origin(a) == null ? null : origin(a).pid());
        f.put("drift.origin.exe", (a, n) -> origin(a) == null ? null : origin(a).exe());
        f.put("drift.origin.cmdline", (a, n) -> origin(a) == null ? null : stringArray(origin(a).cmdline()));
        f.put("drift.origin.remote", (a, n) -> origin(a) == null ? null : origin(a).remote());
        f.put("drift.origin.reason", (a, n) -> origin(a) == null ? null : origin(a).reason());
        f.put("process.pid", (a, n) -> a.process().pid());
        f.put("process.ppid", (a, n) -> a.process().ppid());
        f.put("process.uid", (a, n) -> a.process().uid());
        f.put("process.exe", (a, n) -> a.process().exe());
        f.put("process.cmdline", (a, n) -> stringArray(a.process().cmdline()));
        f.put("process.parent.pid", (a, n) -> a.process().parent() == null ? null : a.process().parent().pid());
        f.put("process.parent.exe", (a, n) -> a.process().parent() == null ? null : a.process().parent().exe());
        f.put("process.euid", (a, n) -> a.process().euid());
        f.put("process.loginUid", (a, n) -> a.process().loginUid());
        f.put("process.cwd", (a, n) -> a.process().cwd());
        f.put("process.ancestors.exe", (a, n) ->
                stringArray(a.process().ancestors().stream().map(x -> x.exe() == null ? "" : x.exe()).toList()));
        f.put("process.session.kind", (a, n) -> a.process().session() == null ? null : a.process().session().kind().name());
        f.put("process.session.id", (a, n) -> a.process().session() == null ? null : a.process().session().id());
        f.put("container.id", (a, n) -> a.container() == null ? null : a.container().id());
        f.put("container.name", (a, n) -> a.container() == null ? null : a.container().name());
        f.put("container.runtime", (a, n) -> a.container() == null ? null : a.container().runtime());
        f.put("container.image", (a, n) -> a.container() == null ? null : a.container().image());
        f.put("container.imageDigest", (a, n) -> a.container() == null ? null : a.container().imageDigest());
        f.put("pod.name", (a, n) -> a.pod() == null ? null : a.pod().name());
        f.put("pod.namespace", (a, n) -> a.pod() == null ? null : a.pod().namespace());
        f.put("pod.uid", (a, n) -> a.pod() == null ? null : a.pod().uid());
        f.put("pod.labels", (a, n) -> a.pod() == null ? null : labels(a.pod().labels()));
        f.put("node", (a, n) -> a.node());
        f.put("cluster", (a, n) -> a.cluster());
        f.put("cloud.provider", (a, n) -> a.cloud() == null ? null : a.cloud().provider());
        f.put("cloud.account", (a, n) -> a.cloud() == null ? null : a.cloud().account());
        f.put("rule.name", (a, n) -> a.rule() == null ? null : a.rule().name());
        f.put("rule.priority", (a, n) -> a.rule() == null ? null : a.rule().priority());
        f.put("mitre", (a, n) -> mitre(MitreAttack.techniquesFor(a)));
        f.put("mitre.ids", (a, n) -> stringArray(MitreAttack.techniquesFor(a).stream().map(MitreTechnique::id).toList()));
        return Collections.unmodifiableMap(f);
    }

    private static Alert.Origin origin(Alert a) {
        return a.drift().origin();
    }

    private static RawJson stringArray(List<String> values) {
        StringBuilder json = new StringBuilder("[");
        int shown = Math.min(values.size(), 128);
        for (int i = 0; i < shown; i++) {
            json.append(i == 0 ? "" : ",").append(quoted(bounded(values.get(i))));
        }
        json.append(']');
        return new RawJson(json.toString(), String.join(" ", values.subList(0, shown).stream()
                .map(BodyTemplate::bounded).toList()));
    }

    private static RawJson labels(Map<String, String> labels) {
        Map<String, String> sorted = new TreeMap<>(labels);
        String json = sorted.entrySet().stream().map(e -> quoted(e.getKey()) + ":" + quoted(bounded(e.getValue())))
                .collect(Collectors.joining(",", "{", "}"));
        String text = sorted.entrySet().stream().map(e -> e.getKey() + "=" + bounded(e.getValue()))
                .collect(Collectors.joining(","));
        return new RawJson(json, text);
    }

    private static RawJson mitre(List<MitreTechnique> techniques) {
        StringWriter json = new StringWriter();
        json.append('[');
        for (int i = 0; i < techniques.size(); i++) {
            MitreTechnique t = techniques.get(i);
            json.append(i == 0 ? "" : ",").append("{\"id\":").append(quoted(t.id())).append(",\"name\":")
                    .append(quoted(t.name())).append(",\"tactic\":").append(quoted(t.tactic())).append('}');
        }
        json.append(']');
        return new RawJson(json.toString(), techniques.stream().map(MitreTechnique::id).collect(Collectors.joining(",")));
    }

    private static String bounded(String value) {
        return value == null || value.length() <= 4096 ? value : value.substring(0, 4096) + "...[truncated]";
    }

    @Override
    public String toString() {
        return "BodyTemplate[" + segments.size() + " segments]";
    }

    private sealed interface Segment permits Literal, Placeholder {
    }

    private record Literal(String text) implements Segment {
    }

    private record Placeholder(String name, boolean inString) implements Segment {
    }

    /** A value that is already JSON (an object or array), with the text it shows inside a string. */
    private record RawJson(String json, String text) {
        /** A whole document: inside a string it shows as its own JSON text. */
        static RawJson of(String json) {
            return new RawJson(json, json);
        }
    }

    /** Alerts the template is tried on before it is accepted. */
    private static final class SampleAlert {
        static Alert complete() {
            return new Alert(Alert.SCHEMA_VERSION, "00000000-0000-4000-8000-000000000000",
                    Instant.parse("2026-01-01T00:00:00.123456789Z"), Alert.AlertType.BinaryDrift, Alert.Severity.high,
                    "alert", new Alert.Drift("MODIFIED", "/usr/bin/\"x\"\n", "ab", "/usr/bin/x", "sha256:00", null),
                    new Alert.Process(2, 1, 0, "/usr/bin/x", List.of("x", "-c", "\"q\""), new Alert.Parent(1, "/bin/sh")),
                    new Alert.Container("c", "app", "containerd", "img:1", "sha256:11"),
                    new Alert.Pod("p", "ns", "uid", Map.of("app", "web")), "node", "cluster",
                    new Alert.Cloud("aws", "1"), new Alert.Rule("r", 1));
        }

        static Alert sparse() {
            return new Alert(Alert.SCHEMA_VERSION, "00000000-0000-4000-8000-000000000001",
                    Instant.parse("2026-01-01T00:00:00Z"), Alert.AlertType.BinaryDriftBlocked, Alert.Severity.low,
                    "block", new Alert.Drift("UNRESOLVED", "/x", null, null, null, "gone"),
                    new Alert.Process(2, 1, 0, null, List.of(), null), null, null, null, null, null,
                    new Alert.Rule("r", null));
        }
    }
}
