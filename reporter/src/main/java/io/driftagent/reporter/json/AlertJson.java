package io.driftagent.reporter.json;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.MitreAttack;
import io.driftagent.reporter.alert.MitreTechnique;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Writes an {@link Alert} as one JSON object in the public field order of the alert contract (docs/alerts.md).
 *
 * <p>Null policy: the optional fields marked {@code ?} in the contract ({@code drift.imagePath}, {@code drift.layer})
 * and the additive fields ({@code drift.reason}, {@code count}) are omitted when absent; the additive {@code mitre}
 * array (see {@link MitreAttack}) is always written, empty when the drift establishes no technique; every other field is always
 * present and is {@code null} when unknown, so consumers can rely on the shape.
 *
 * <p>Sizes are bounded so one line stays within what log shippers accept: strings are cut at {@link #MAX_STRING}
 * characters and command lines at {@link #MAX_ARGS} arguments, both visibly marked.
 *
 * <p>The output never contains a raw line break: control characters, DEL, C1 controls and U+2028/U+2029 are
 * escaped, unpaired UTF-16 surrogates become U+FFFD. Thread-safe and stateless apart from the shared factory.
 */
public final class AlertJson implements AlertEncoder {

    /** Longest string written (PATH_MAX); longer ones, only possible for arguments, end in {@link #TRUNCATED}. */
    static final int MAX_STRING = 4096;
    /** Most command-line arguments written; the rest are summarized in one last element. */
    static final int MAX_ARGS = 128;
    static final String TRUNCATED = "...[truncated]";

    private static final DateTimeFormatter RFC3339_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final JsonFactory factory = JsonFactory.builder().characterEscapes(new LineSafeEscapes()).build();

    /** The alert as UTF-8 JSON, no trailing newline. */
    public byte[] toBytes(Alert alert, int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        write(alert, count, out);
        return out.toByteArray();
    }

    @Override
    public byte[] encode(Alert alert, int count) {
        return toBytes(alert, count);
    }

    /** The alert as one JSON line: UTF-8 JSON followed by {@code '\n'}. */
    public byte[] toLine(Alert alert, int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        write(alert, count, out);
        out.write('\n');
        return out.toByteArray();
    }

    /** Writes the alert (standing for {@code count >= 1} occurrences) to {@code out}, without a newline. */
    public void write(Alert alert, int count, OutputStream out) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1: " + count);
        }
        try (JsonGenerator g = factory.createGenerator(ObjectWriteContext.empty(), out)) {
            writeAlert(g, alert, count);
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot serialize alert " + alert.id(), e);
        }
    }

    /** RFC 3339 UTC with millisecond precision, e.g. {@code 2026-11-27T18:22:08.123Z}. */
    public static String formatTime(Instant time) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(time.getEpochSecond(), 0, ZoneOffset.UTC);
        if (t.getYear() < 0 || t.getYear() > 9999) {
            return RFC3339_MILLIS.format(time.truncatedTo(ChronoUnit.MILLIS));
        }
        // hand-rolled: DateTimeFormatter is a large share of one alert's serialization cost
        char[] c = {'0', '0', '0', '0', '-', '0', '0', '-', '0', '0', 'T', '0', '0', ':', '0', '0', ':', '0', '0', '.',
            '0', '0', '0', 'Z'};
        digits(c, 0, 4, t.getYear());
        digits(c, 5, 2, t.getMonthValue());
        digits(c, 8, 2, t.getDayOfMonth());
        digits(c, 11, 2, t.getHour());
        digits(c, 14, 2, t.getMinute());
        digits(c, 17, 2, t.getSecond());
        digits(c, 20, 3, time.getNano() / 1_000_000);
        return new String(c);
    }

    private static void digits(char[] into, int at, int width, int value) {
        for (int i = at + width - 1; i >= at; i--) {
            into[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    private static void writeAlert(JsonGenerator g, Alert a, int count) {
        g.writeStartObject();
        g.writeNumberProperty("schemaVersion", a.schemaVersion());
        string(g, "id", a.id());
        string(g, "time", formatTime(a.time()));
        string(g, "alertType", a.alertType().name());
        string(g, "severity", a.severity().name());
        string(g, "action", a.action());
        writeDrift(g, a.drift());
        writeProcess(g, a.process());
        writeContainer(g, a.container());
        writePod(g, a.pod());
        string(g, "node", a.node());
        string(g, "cluster", a.cluster());
        writeCloud(g, a.cloud());
        writeRule(g, a.rule());
        writeMitre(g, MitreAttack.techniquesFor(a));
        if (count > 1) {
            g.writeNumberProperty("count", count);
        }
        g.writeEndObject();
    }

    private static void writeDrift(JsonGenerator g, Alert.Drift d) {
        g.writeName("drift");
        g.writeStartObject();
        string(g, "kind", d.kind());
        string(g, "path", d.path());
        optionalString(g, "pathBytes", d.pathBytes());
        string(g, "sha256", d.sha256());
        optionalString(g, "imagePath", d.imagePath());
        optionalString(g, "layer", d.layer());
        optionalString(g, "reason", d.reason());
        if (d.origin() != null) {
            writeOrigin(g, d.origin());
        }
        g.writeEndObject();
    }

    private static void writeOrigin(JsonGenerator g, Alert.Origin o) {
        g.writeName("origin");
        g.writeStartObject();
        optionalNumber(g, "pid", o.pid());
        string(g, "exe", o.exe());
        writeArgs(g, "cmdline", o.cmdline());
        string(g, "time", o.time() == null ? null : formatTime(o.time()));
        string(g, "remote", o.remote());
        string(g, "reason", o.reason());
        g.writeEndObject();
    }

    private static void optionalNumber(JsonGenerator g, String name, Number value) {
        if (value == null) {
            g.writeNullProperty(name);
        } else {
            g.writeNumberProperty(name, value.longValue());
        }
    }

    private static void writeArgs(JsonGenerator g, String name, List<String> args) {
        g.writeName(name);
        g.writeStartArray();
        int written = Math.min(args.size(), MAX_ARGS);
        for (int i = 0; i < written; i++) {
            stringValue(g, args.get(i));
        }
        if (args.size() > MAX_ARGS) {
            g.writeString(TRUNCATED + " " + (args.size() - MAX_ARGS) + " more arguments");
        }
        g.writeEndArray();
    }

    private static void writeProcess(JsonGenerator g, Alert.Process p) {
        g.writeName("process");
        g.writeStartObject();
        g.writeNumberProperty("pid", p.pid());
        // unknown (a source that read them after the process exited, e.g. fanotify): null, never a made-up 0 or -1
        if (p.ppid() > 0) {
            g.writeNumberProperty("ppid", p.ppid());
        } else {
            g.writeNullProperty("ppid");
        }
        if (p.uid() >= 0) {
            g.writeNumberProperty("uid", p.uid());
        } else {
            g.writeNullProperty("uid");
        }
        string(g, "exe", p.exe());
        writeArgs(g, "cmdline", p.cmdline());
        g.writeName("parent");
        Alert.Parent parent = p.parent();
        if (parent == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            g.writeNumberProperty("pid", parent.pid());
            string(g, "exe", parent.exe());
            g.writeEndObject();
        }
        optionalNumber(g, "euid", p.euid());
        optionalNumber(g, "loginUid", p.loginUid());
        optionalNumber(g, "auditSessionId", p.auditSessionId());
        string(g, "cwd", p.cwd());
        g.writeName("ancestors");
        g.writeStartArray();
        for (Alert.Ancestor ancestor : p.ancestors()) {
            g.writeStartObject();
            g.writeNumberProperty("pid", ancestor.pid());
            string(g, "exe", ancestor.exe());
            writeArgs(g, "cmdline", ancestor.cmdline());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeName("session");
        if (p.session() == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            string(g, "kind", p.session().kind().name());
            string(g, "id", p.session().id());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    private static void writeContainer(JsonGenerator g, Alert.Container c) {
        g.writeName("container");
        if (c == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        string(g, "id", c.id());
        string(g, "name", c.name());
        string(g, "runtime", c.runtime());
        string(g, "image", c.image());
        string(g, "imageDigest", c.imageDigest());
        g.writeEndObject();
    }

    private static void writePod(JsonGenerator g, Alert.Pod p) {
        g.writeName("pod");
        if (p == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        string(g, "name", p.name());
        string(g, "namespace", p.namespace());
        string(g, "uid", p.uid());
        g.writeName("labels");
        g.writeStartObject();
        // sorted: a stable byte-for-byte output for the same alert
        for (Map.Entry<String, String> label : new TreeMap<>(p.labels()).entrySet()) {
            g.writeName(LineSafeEscapes.sanitize(label.getKey()));
            stringValue(g, label.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void writeCloud(JsonGenerator g, Alert.Cloud c) {
        g.writeName("cloud");
        if (c == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        string(g, "provider", c.provider());
        string(g, "account", c.account());
        g.writeEndObject();
    }

    private static void writeRule(JsonGenerator g, Alert.Rule r) {
        g.writeName("rule");
        if (r == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        string(g, "name", r.name());
        g.writeName("priority");
        if (r.priority() == null) {
            g.writeNull();
        } else {
            g.writeNumber(r.priority().intValue());
        }
        g.writeEndObject();
    }

    private static void writeMitre(JsonGenerator g, List<MitreTechnique> techniques) {
        g.writeName("mitre");
        g.writeStartArray();
        for (MitreTechnique t : techniques) {
            g.writeStartObject();
            string(g, "id", t.id());
            string(g, "name", t.name());
            string(g, "tactic", t.tactic());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void string(JsonGenerator g, String name, String value) {
        g.writeName(name);
        stringValue(g, value);
    }

    private static void optionalString(JsonGenerator g, String name, String value) {
        if (value != null) {
            string(g, name, value);
        }
    }

    private static void stringValue(JsonGenerator g, String value) {
        if (value == null) {
            g.writeNull();
        } else {
            String bounded = value.length() > MAX_STRING ? value.substring(0, MAX_STRING) + TRUNCATED : value;
            g.writeString(LineSafeEscapes.sanitize(bounded));
        }
    }
}
