package io.driftagent.agent.learn;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.json.AlertJson;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Test helper: alert lines exactly as the agent's JSON writer writes them. */
public final class AlertLines {
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final AlertJson json = new AlertJson();
    private Instant time = Instant.parse("2026-11-27T10:00:00Z");
    private int ids;

    public static Alert alert(Instant time, String id, String namespace, String app, String container, String kind,
                              String path, String sha256, String action, String rule, Integer priority) {
        return new Alert(Alert.SCHEMA_VERSION, id, time,
                action.equals("block") ? Alert.AlertType.BinaryDriftBlocked : Alert.AlertType.BinaryDrift,
                Alert.Severity.high, action, new Alert.Drift(kind, path, sha256, null, null, null),
                new Alert.Process(4242, 1, 0, path, List.of(path), new Alert.Parent(1, "/bin/sh")),
                new Alert.Container("c0ffee", container, "containerd", "registry.example/" + container + ":1.0", null),
                namespace == null ? null : new Alert.Pod(app + "-7d9f", namespace, "uid-1",
                        app == null ? Map.of() : Map.of("app", app, "pod-template-hash", "7d9f")),
                "node-1", "prod", new Alert.Cloud("azure", "sub-1"), new Alert.Rule(rule, priority));
    }

    /** Appends an alert line (the next minute) for a pod {@code app} of {@code namespace}; count > 1 is a summary. */
    public AlertLines add(String namespace, String app, String kind, String path, int count) {
        time = time.plusSeconds(60);
        Alert alert = alert(time, "id-" + (++ids), namespace, app, app, kind, path, null, "alert", "default", null);
        log.writeBytes(json.toLine(alert, count));
        return this;
    }

    public AlertLines add(Alert alert) {
        log.writeBytes(json.toLine(alert, 1));
        return this;
    }

    public AlertLines raw(String line) {
        log.writeBytes((line + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public byte[] bytes() {
        return log.toByteArray();
    }
}
