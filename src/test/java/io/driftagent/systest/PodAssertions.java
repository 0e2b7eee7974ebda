package io.driftagent.systest;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.systest.scenario.ChartPod;
import io.driftagent.systest.workload.Workload;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/** Assertions about the agent pod shared by the scenario classes. */
final class PodAssertions {

    private PodAssertions() {
    }

    /**
     * Ready (readiness probe answered 2xx/3xx) within the startup probe's budget, still running, and its liveness
     * probe answers (kubelet would restart it otherwise).
     */
    static void assertReadyWithinBudget(ChartPod pod) throws Exception {
        var readiness = pod.readiness();
        assertThat(readiness.ready()).as("%s after %d ms, budget %d s; last answer %d %s%n%s", readiness.reason(),
                readiness.elapsed().toMillis(), readiness.budget().toSeconds(), readiness.lastStatus(),
                readiness.lastBody(), pod.container().diagnostics()).isTrue();
        assertThat(readiness.elapsed()).isLessThanOrEqualTo(readiness.budget());
        assertThat(pod.container().running()).as(pod.container().diagnostics()).isTrue();
        var liveness = pod.run().probe("liveness");
        if (liveness.isPresent()) {
            int status = pod.container().get(liveness.get().port(), liveness.get().path(),
                    Duration.ofSeconds(liveness.get().timeoutSeconds())).statusCode();
            assertThat(status).as("liveness probe %s", liveness.get().path()).isBetween(200, 399);
        }
        System.out.printf("systest: %s Ready %d ms after docker run (budget %d s)%n", pod.container().name(),
                readiness.elapsed().toMillis(), readiness.budget().toSeconds());
    }

    /** The alert line for {@code path} exec'd in {@code workload}, on the agent container's stdout within {@code timeout}. */
    static JsonNode assertAlertFor(ChartPod pod, Workload workload, String path, Duration timeout) throws Exception {
        return pod.awaitAlert(AlertPredicates.forPath(workload, path), timeout).orElseThrow(
                () -> new AssertionError("no alert for " + path + " on the agent's stdout; "
                        + pod.container().diagnostics()));
    }
}
