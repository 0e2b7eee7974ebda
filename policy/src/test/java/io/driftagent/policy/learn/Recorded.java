package io.driftagent.policy.learn;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.model.DriftKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Test builder of recorded alerts: a log with line numbers 1, 2, 3, ... */
final class Recorded {
    private final List<RecordedAlert> alerts = new ArrayList<>();
    private Instant time = Instant.parse("2026-11-27T10:00:00Z");

    static DriftFacts facts(String namespace, Map<String, String> labels, String container, String image,
                            DriftKind kind, String path, String sha256) {
        return new DriftFacts("azure", "sub-1", "prod", namespace, namespace == null ? null : "pod-1", labels,
                container, image, kind, path, sha256);
    }

    static DriftFacts web(String path) {
        return facts("shop", Map.of("app", "web"), "nginx", "registry.example/nginx:1.25", DriftKind.ADDED, path, null);
    }

    Recorded add(DriftFacts facts) {
        return add(facts, "alert", "default", 1);
    }

    Recorded add(DriftFacts facts, String action, String rule, int count) {
        time = time.plusSeconds(60);
        alerts.add(new RecordedAlert(alerts.size() + 1, "id-" + (alerts.size() + 1), time, action, false, rule, count, facts));
        return this;
    }

    List<RecordedAlert> log() {
        return List.copyOf(alerts);
    }
}
