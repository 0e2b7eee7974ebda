package io.driftagent.reporter.json;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.MitreAttack;
import io.driftagent.reporter.alert.MitreTechnique;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/**
 * An alert in Falco's JSON output shape, the payload falcosidekick accepts on its HTTP input: {@code uuid},
 * {@code output}, {@code priority}, {@code rule}, {@code time}, {@code output_fields}, {@code source}, {@code tags},
 * {@code hostname}. The mapping (priority per severity, rule names, output field names) is documented in
 * docs/alerts.md, "Falco-compatible output".
 *
 * <p>Output fields use Falco's field names where Falco has the same fact ({@code proc.exepath},
 * {@code container.id}, {@code k8s.ns.name}, ...) and {@code drift.*} names for drift-agent's own. An unknown value is
 * {@code null}, as in Falco's output. The same escaping and size bounds as {@link AlertJson} apply, so a Falco line is
 * one line too. Thread-safe.
 */
public final class FalcoJson implements AlertEncoder {

    /** Falco's event source for kernel (syscall) events, which an exec is. */
    static final String SOURCE = "syscall";
    static final String RULE_DRIFT = "Drifted binary executed in container";
    static final String RULE_BLOCKED = "Drifted binary blocked in container";
    static final String RULE_LIBRARY = "Drifted library loaded in container";

    private static final DateTimeFormatter RFC3339_NANOS = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss").appendFraction(ChronoField.NANO_OF_SECOND, 9, 9, true)
            .appendLiteral('Z').toFormatter(Locale.ROOT).withZone(ZoneOffset.UTC);

    private final JsonFactory factory = JsonFactory.builder().characterEscapes(new LineSafeEscapes()).build();

    @Override
    public byte[] encode(Alert alert, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1: " + count);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(1536);
        try (JsonGenerator g = factory.createGenerator(ObjectWriteContext.empty(), out)) {
            write(g, alert, count);
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot serialize alert " + alert.id(), e);
        }
        return out.toByteArray();
    }

    /** Falco's priority for a drift-agent severity: high Critical, medium Warning, low Notice. */
    public static String priority(Alert.Severity severity) {
        switch (severity) {
            case high:
                return "Critical";
            case medium:
                return "Warning";
            default:
                return "Notice";
        }
    }

    /** The Falco rule name an alert is reported under. */
    public static String rule(Alert alert) {
        switch (alert.alertType().name()) {
            case "BinaryDrift":
                return RULE_DRIFT;
            case "BinaryDriftBlocked":
                return RULE_BLOCKED;
            case "LibraryDrift":
                return RULE_LIBRARY;
            default:
                return "Drift in container (" + alert.alertType().name() + ")";
        }
    }

    /** RFC 3339, UTC, always nine fraction digits (as Falco writes it): {@code 2026-11-27T18:22:08.123456000Z}. */
    public static String formatTime(Instant time) {
        return RFC3339_NANOS.format(time);
    }

    /** Falco-style tags: what the alert is, then each technique's tactic ({@code mitre_...}) and id. */
    public static List<String> tags(Alert alert) {
        Set<String> tags = new LinkedHashSet<>();
        tags.add("drift-agent");
        tags.add("container");
        tags.add("process");
        tags.add("drift");
        tags.add("drift_" + alert.drift().kind().toLowerCase(Locale.ROOT));
        if (alert.alertType() == Alert.AlertType.BinaryDriftBlocked) {
            tags.add("blocked");
        }
        if (alert.alertType() == Alert.AlertType.LibraryDrift) {
            tags.add("library");
        }
        List<MitreTechnique> techniques = MitreAttack.techniquesFor(alert);
        for (MitreTechnique t : techniques) {
            tags.add(t.falcoTacticTag());
        }
        for (MitreTechnique t : techniques) {
            tags.add(t.id());
        }
        return List.copyOf(tags);
    }

    private static void write(JsonGenerator g, Alert a, int count) {
        String time = formatTime(a.time());
        String priority = priority(a.severity());
        g.writeStartObject();
        string(g, "uuid", a.id());
        string(g, "output", output(a, time, priority, count));
        string(g, "priority", priority);
        string(g, "rule", rule(a));
        string(g, "time", time);
        writeOutputFields(g, a, count);
        string(g, "source", SOURCE);
        g.writeName("tags");
        g.writeStartArray();
        for (String tag : tags(a)) {
            g.writeString(tag);
        }
        g.writeEndArray();
        string(g, "hostname", a.node());
        g.writeEndObject();
    }

    /** The human line Falco puts in {@code output}: time, priority, what happened, then key=value facts. */
    private static String output(Alert a, String time, String priority, int count) {
        Alert.Drift d = a.drift();
        Alert.Process p = a.process();
        StringBuilder s = new StringBuilder(512);
        s.append(time).append(": ").append(priority).append(' ').append(rule(a))
                .append(" (kind=").append(d.kind())
                .append(" path=").append(bounded(d.path()))
                .append(" sha256=").append(orNa(d.sha256()));
        if (d.imagePath() != null) {
            s.append(" image_path=").append(bounded(d.imagePath()));
        }
        if (d.reason() != null) {
            s.append(" reason=").append(bounded(d.reason()));
        }
        s.append(" proc.exepath=").append(orNa(bounded(p.exe())))
                .append(" proc.cmdline=").append(orNa(cmdline(p.cmdline())))
                .append(" proc.pid=").append(p.pid())
                .append(" user.uid=").append(p.uid());
        Alert.Container c = a.container();
        s.append(" container.id=").append(orNa(c == null ? null : shortId(c.id())))
                .append(" container.name=").append(orNa(c == null ? null : c.name()))
                .append(" container.image=").append(orNa(c == null ? null : c.image()));
        Alert.Pod pod = a.pod();
        s.append(" k8s.ns.name=").append(orNa(pod == null ? null : pod.namespace()))
                .append(" k8s.pod.name=").append(orNa(pod == null ? null : pod.name()))
                .append(" action=").append(a.action())
                .append(" policy_rule=").append(orNa(a.rule() == null ? null : a.rule().name()));
        List<MitreTechnique> techniques = MitreAttack.techniquesFor(a);
        if (!techniques.isEmpty()) {
            s.append(" mitre=").append(String.join(",", techniques.stream().map(MitreTechnique::id).toList()));
        }
        if (count > 1) {
            s.append(" count=").append(count);
        }
        return s.append(')').toString();
    }

    private static void writeOutputFields(JsonGenerator g, Alert a, int count) {
        Alert.Drift d = a.drift();
        Alert.Process p = a.process();
        Alert.Container c = a.container();
        Alert.Pod pod = a.pod();
        g.writeName("output_fields");
        g.writeStartObject();
        g.writeName("evt.time");
        Long nanos = epochNanos(a.time());
        if (nanos == null) {
            g.writeNull();
        } else {
            g.writeNumber(nanos.longValue());
        }
        // Falco's event type of the syscall behind the alert: a library load is an executable mmap, not an execve
        string(g, "evt.type", a.alertType() == Alert.AlertType.LibraryDrift ? "mmap" : "execve");
        string(g, "proc.name", baseName(p.exe() != null ? p.exe() : d.path()));
        string(g, "proc.exepath", p.exe());
        string(g, "proc.cmdline", cmdline(p.cmdline()));
        g.writeNumberProperty("proc.pid", p.pid());
        g.writeNumberProperty("proc.ppid", p.ppid());
        string(g, "proc.pexepath", p.parent() == null ? null : p.parent().exe());
        g.writeNumberProperty("user.uid", p.uid());
        optionalNumber(g, "user.loginuid", p.loginUid());
        string(g, "proc.cwd", p.cwd());
        for (int i = 0; i < p.ancestors().size(); i++) {
            Alert.Ancestor ancestor = p.ancestors().get(i);
            g.writeNumberProperty("proc.apid[" + (i + 1) + "]", ancestor.pid());
            string(g, "proc.aexepath[" + (i + 1) + "]", ancestor.exe());
        }
        string(g, "container.id", c == null ? null : shortId(c.id()));
        string(g, "container.full_id", c == null ? null : c.id());
        string(g, "container.name", c == null ? null : c.name());
        string(g, "container.image", c == null ? null : c.image());
        string(g, "container.image.digest", c == null ? null : c.imageDigest());
        string(g, "k8s.ns.name", pod == null ? null : pod.namespace());
        string(g, "k8s.pod.name", pod == null ? null : pod.name());
        string(g, "k8s.pod.uid", pod == null ? null : pod.uid());
        string(g, "drift.alert_id", a.id());
        string(g, "drift.alert_type", a.alertType().name());
        string(g, "drift.action", a.action());
        string(g, "drift.kind", d.kind());
        string(g, "drift.path", d.path());
        if (d.pathBytes() != null) {
            string(g, "drift.path_bytes", d.pathBytes());
        }
        string(g, "drift.sha256", d.sha256());
        string(g, "drift.image_path", d.imagePath());
        string(g, "drift.layer", d.layer());
        string(g, "drift.reason", d.reason());
        if (d.origin() != null) {
            Alert.Origin o = d.origin();
            optionalNumber(g, "drift.origin.pid", o.pid());
            string(g, "drift.origin.exe", o.exe());
            string(g, "drift.origin.cmdline", o.cmdline().isEmpty() ? null : cmdline(o.cmdline()));
            string(g, "drift.origin.remote", o.remote());
            string(g, "drift.origin.reason", o.reason());
        }
        string(g, "drift.session.kind", p.session() == null ? null : p.session().kind().name());
        string(g, "drift.session.id", p.session() == null ? null : p.session().id());
        string(g, "drift.rule.name", a.rule() == null ? null : a.rule().name());
        g.writeName("drift.rule.priority");
        if (a.rule() == null || a.rule().priority() == null) {
            g.writeNull();
        } else {
            g.writeNumber(a.rule().priority().intValue());
        }
        string(g, "drift.cluster", a.cluster());
        string(g, "drift.cloud.provider", a.cloud() == null ? null : a.cloud().provider());
        string(g, "drift.cloud.account", a.cloud() == null ? null : a.cloud().account());
        g.writeNumberProperty("drift.count", count);
        g.writeEndObject();
    }

    private static void optionalNumber(JsonGenerator g, String name, Number value) {
        if (value == null) {
            g.writeNullProperty(name);
        } else {
            g.writeNumberProperty(name, value.longValue());
        }
    }

    private static Long epochNanos(Instant time) {
        try {
            return Math.addExact(Math.multiplyExact(time.getEpochSecond(), 1_000_000_000L), time.getNano());
        } catch (ArithmeticException beyond2262) {
            return null;
        }
    }

    /** Falco's {@code container.id} is the first 12 characters of the runtime's id. */
    private static String shortId(String id) {
        return id == null || id.length() <= 12 ? id : id.substring(0, 12);
    }

    private static String baseName(String path) {
        if (path == null) {
            return null;
        }
        int slash = path.lastIndexOf('/');
        return slash < 0 || slash == path.length() - 1 ? path : path.substring(slash + 1);
    }

    /** The command line as Falco shows it: the arguments joined by spaces, bounded. */
    private static String cmdline(List<String> args) {
        if (args.isEmpty()) {
            return null;
        }
        StringBuilder s = new StringBuilder();
        int shown = Math.min(args.size(), AlertJson.MAX_ARGS);
        for (int i = 0; i < shown && s.length() <= AlertJson.MAX_STRING; i++) {
            if (i > 0) {
                s.append(' ');
            }
            s.append(args.get(i));
        }
        if (args.size() > AlertJson.MAX_ARGS) {
            s.append(' ').append(AlertJson.TRUNCATED);
        }
        return bounded(s.toString());
    }

    private static String bounded(String value) {
        if (value == null || value.length() <= AlertJson.MAX_STRING) {
            return value;
        }
        return value.substring(0, AlertJson.MAX_STRING) + AlertJson.TRUNCATED;
    }

    private static String orNa(String value) {
        return value == null ? "<NA>" : value;
    }

    private static void string(JsonGenerator g, String name, String value) {
        g.writeName(name);
        if (value == null) {
            g.writeNull();
        } else {
            g.writeString(LineSafeEscapes.sanitize(bounded(value)));
        }
    }
}
