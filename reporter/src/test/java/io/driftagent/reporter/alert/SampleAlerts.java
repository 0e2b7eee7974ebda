package io.driftagent.reporter.alert;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Realistic alerts for tests. */
public final class SampleAlerts {

    public static final Instant TIME = Instant.parse("2026-11-27T18:22:08.123456Z");

    private SampleAlerts() {
    }

    public static Alert full() {
        return new Alert(Alert.SCHEMA_VERSION, "3f0c2a8e-6f9b-4d7e-9a51-0c7b2f1d9e44", TIME,
                Alert.AlertType.BinaryDrift, Alert.Severity.high, "alert",
                new Alert.Drift("MODIFIED", "/usr/bin/curl",
                        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "/usr/bin/curl",
                        "sha256:1a2b3c", null),
                new Alert.Process(4242, 4200, 0, "/usr/bin/curl", List.of("curl", "-s", "http://x"),
                        new Alert.Parent(4200, "/bin/sh")),
                new Alert.Container("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "app",
                        "containerd", "registry.example/app:1.2", "sha256:feedbeef"),
                new Alert.Pod("web-7d9f", "shop", "5b7d3c1e-1111-2222-3333-444455556666",
                        Map.of("app", "web", "tier", "front")),
                "node-1", "prod-eu", new Alert.Cloud("azure", "sub-123"), new Alert.Rule("default-alert", 100));
    }

    /** An alert in a given container, for a given path and kind, with a fresh id. */
    public static Alert of(String containerId, String path, String kind) {
        Alert a = full();
        return new Alert(a.schemaVersion(), UUID.randomUUID().toString(), a.time(), a.alertType(), a.severity(),
                a.action(), new Alert.Drift(kind, path, null, null, null, null), a.process(),
                new Alert.Container(containerId, "app", "containerd", "img", "sha256:00"), a.pod(), a.node(),
                a.cluster(), a.cloud(), a.rule());
    }

    /** A library drift: {@code path} of {@code kind} loaded into the image's {@code /usr/bin/app}. */
    public static Alert library(String path, String kind) {
        Alert a = full();
        return new Alert(a.schemaVersion(), UUID.randomUUID().toString(), a.time(), Alert.AlertType.LibraryDrift,
                Alert.Severity.medium, "alert", new Alert.Drift(kind, path, null, null, null, null),
                new Alert.Process(4242, 4200, 0, "/usr/bin/app", List.of("/usr/bin/app"), new Alert.Parent(4200, "/bin/sh")),
                a.container(), a.pod(), a.node(), a.cluster(), a.cloud(), a.rule());
    }

    /** A minimal standalone alert: no pod, no cloud, no rule, unknown fields null. */
    public static Alert minimal(String path) {
        return new Alert(Alert.SCHEMA_VERSION, UUID.randomUUID().toString(), TIME, Alert.AlertType.BinaryDriftBlocked,
                Alert.Severity.medium, "block", new Alert.Drift("UNRESOLVED", path, null, null, null, "container gone"),
                new Alert.Process(7, 1, 1000, null, null, null), null, null, null, null, null, null);
    }
}
