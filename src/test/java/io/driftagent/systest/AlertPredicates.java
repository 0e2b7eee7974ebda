package io.driftagent.systest;

import io.driftagent.systest.workload.Workload;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;

/** Which alert a test waits for. */
final class AlertPredicates {

    private AlertPredicates() {
    }

    static Predicate<JsonNode> forPath(Workload workload, String path) {
        return alert -> workload.containerId().equals(alert.path("container").path("id").asString(""))
                && path.equals(alert.path("drift").path("path").asString(""));
    }

    static Predicate<JsonNode> ofContainer(Workload workload) {
        return alert -> workload.containerId().equals(alert.path("container").path("id").asString(""));
    }
}
