package io.driftagent.agent.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exec canary's watch: its execs reach the self-test, never the alert sinks; everyone else's pass through. */
class SandboxCanaryWatchTest {

    @TempDir
    Path dir;

    private final SandboxContainers sandboxes = new SandboxContainers();
    private final List<Alert> published = new ArrayList<>();
    private final ContainerContext agentsOwnPod = new ContainerContext(new ContainerId("c".repeat(64)),
            ContainerRuntime.CONTAINERD, "/kubepods/pod1/" + "c".repeat(64), null, null);

    @Test
    void theCanarysExecIsReportedAndItsAlertIsDroppedWhileAnotherExecOfTheSameContainerAlerts() throws IOException {
        // given: a canary in the agent's own pod, attributed to that pod's container and classified MOUNT
        Path canary = Files.copy(Files.createFile(dir.resolve("seed")), dir.resolve("busybox.drift-canary-7-1"));
        List<String> seen = new ArrayList<>();
        List<DriftKind> classified = new ArrayList<>();
        var attributor = sandboxes.attributorOver(event -> Optional.of(agentsOwnPod));
        var classifier = sandboxes.classifierOver((event, container) ->
                new Classification(DriftKind.MOUNT, event.filename(), null, null, null, null));
        var publisher = sandboxes.publisherOver(published::add);

        try (SandboxContainers.CanaryWatch watch = sandboxes.watchCanary(canary, new SandboxContainers.CanaryObserver() {
            @Override
            public void seen(ExecEvent event, Optional<ContainerContext> container) {
                seen.add(event.filename() + " in " + container.map(c -> c.id().value().substring(0, 3)).orElse("host"));
            }

            @Override
            public void classified(ExecEvent event, Classification classification) {
                classified.add(classification.kind());
            }
        })) {
            // when: the canary's exec, and a workload's exec of another file in the same container, go through
            ExecEvent canaryExec = exec(4711, canary.toString(), identity(canary));
            ExecEvent otherExec = exec(4712, dir.resolve("seed").toString(), identity(dir.resolve("seed")));
            for (ExecEvent e : List.of(canaryExec, otherExec)) {
                ContainerContext ctx = attributor.attribute(e).orElseThrow();
                Classification c = classifier.classify(e, ctx);
                publisher.publish(alert(e.tgid(), c.path()));
            }
        }

        // then
        assertThat(seen).containsExactly(canary + " in ccc");
        assertThat(classified).containsExactly(DriftKind.MOUNT);
        assertThat(published).extracting(a -> a.process().pid()).containsExactly(4712);
    }

    @Test
    void aCanaryWatchTellsTheExecSourceBeforeTheCanaryRunsAndWhenItEnds() throws IOException {
        // the exec source keeps known image execs in the kernel unless the classifier watches one (observesSome)
        Path canary = Files.copy(Files.createFile(dir.resolve("seed2")), dir.resolve("busybox.drift-canary-7-2"));
        var classifier = sandboxes.classifierOver((event, container) ->
                new Classification(DriftKind.IMAGE, event.filename(), null, null, null, null));
        List<Boolean> toldWhileWatching = new ArrayList<>();
        sandboxes.onCanaryWatchesChanged(() -> toldWhileWatching.add(classifier.observesSome()));
        assertThat(classifier.observesSome()).isFalse();

        try (SandboxContainers.CanaryWatch watch = sandboxes.watchCanary(canary, new SandboxContainers.CanaryObserver() {
            @Override
            public void seen(ExecEvent event, Optional<ContainerContext> container) {
            }

            @Override
            public void classified(ExecEvent event, Classification classification) {
            }
        })) {
            assertThat(toldWhileWatching).containsExactly(true);
        }
        assertThat(toldWhileWatching).containsExactly(true, false);
    }

    @Test
    void anExecInASandboxsCgroupThatNoRegisteredSandboxClaimsIsAHostToolsNotAContainers() throws IOException {
        // a host tool (unshare, chroot) setting a sandbox up, seen by a source that reads the cgroup late (fanotify)
        ContainerContext sandboxCgroup = new ContainerContext(new ContainerId("selftest-29484-1"),
                ContainerRuntime.CONTAINERD, "/" + OverlaySandbox.CGROUP_PARENT + "/selftest-29484-1", null, null);
        var attributor = sandboxes.attributorOver(event -> Optional.of(sandboxCgroup));
        var workloads = sandboxes.attributorOver(event -> Optional.of(agentsOwnPod));

        assertThat(attributor.attribute(exec(30739, "/usr/bin/unshare", new ExecEvent.FileId(1, 2)))).isEmpty();
        assertThat(workloads.attribute(exec(30740, "/usr/bin/unshare", new ExecEvent.FileId(1, 2)))).contains(agentsOwnPod);
    }

    private static ExecEvent.FileId identity(Path file) throws IOException {
        return new ExecEvent.FileId(((Number) Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue(),
                ((Number) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue());
    }

    private static ExecEvent exec(int pid, String path, ExecEvent.FileId file) {
        return new ExecEvent(pid, pid, 1, 0, 0, 1, "x", path, file, ExecEvent.FileId.NONE, 0, 0, ExecEvent.Flags.NONE,
                ExecEvent.SourceKind.EBPF, 1);
    }

    private static Alert alert(int pid, String path) {
        return new Alert(Alert.SCHEMA_VERSION, "id-" + pid, java.time.Instant.EPOCH, Alert.AlertType.BinaryDrift,
                Alert.Severity.medium, "alert", new Alert.Drift("MOUNT", path, null, null, null, null),
                new Alert.Process(pid, 1, 0, null, List.of(), null), null, null, "node", null, null, null);
    }
}
