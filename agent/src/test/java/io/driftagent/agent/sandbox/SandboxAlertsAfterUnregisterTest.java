package io.driftagent.agent.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertPublisher;
import io.driftagent.reporter.alert.Alert;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A self-test sandbox's alert that reaches publishing after the self-test unregistered the sandbox (a source that
 * reports late, fanotify) stays out of the sinks, as it would have while the sandbox was registered.
 */
@Tag(TestTiers.KERNEL)
class SandboxAlertsAfterUnregisterTest {

    @Test
    void aSelfTestSandboxsAlertPublishedAfterItWasUnregisteredNeverReachesTheSinks() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "overlay mounts and cgroups need root");
        assumeTrue(Files.isRegularFile(OverlaySandbox.DEFAULT_BUSYBOX), "busybox-static is not installed");
        SandboxContainers sandboxes = new SandboxContainers();
        List<Alert> published = new CopyOnWriteArrayList<>();
        AlertPublisher sinks = sandboxes.publisherOver(alert -> published.add(alert));
        try (OverlaySandbox sandbox = OverlaySandbox.create("late" + ProcessHandle.current().pid(),
                OverlaySandbox.DEFAULT_BUSYBOX)) {
            // given a self-test sandbox (alerts kept out of the sinks) and a demo one (alerts reported)
            ContainerId selfTest = sandboxes.register(sandbox, metadata("drift-self-test"), false, (e, c) -> { });
            Alert canary = alertFor(selfTest.value());

            // when the self-test is done with it before its canary's alert is published
            sandboxes.unregister(selfTest);
            sinks.publish(canary);

            // then the alert never reaches the sinks, while another container's does
            sinks.publish(alertFor("some-workload"));
            assertThat(published).extracting(a -> a.container().id()).containsExactly("some-workload");
        }
    }

    private static WorkloadMetadata metadata(String name) {
        return new WorkloadMetadata(null, null, null, Map.of(), name, "drift-agent/" + name, null);
    }

    private static Alert alertFor(String containerId) {
        return new Alert(Alert.SCHEMA_VERSION, "id-" + containerId, Instant.now(), Alert.AlertType.BinaryDrift,
                Alert.Severity.medium, "alert", new Alert.Drift("ADDED", "/tmp/sleep", null, null, null, null),
                new Alert.Process(1, 0, 0, null, List.of(), null),
                new Alert.Container(containerId, null, "unknown", null, null), null, "node", null, null,
                new Alert.Rule("default", null));
    }
}
