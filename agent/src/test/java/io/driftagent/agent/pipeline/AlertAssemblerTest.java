package io.driftagent.agent.pipeline;

import static io.driftagent.agent.pipeline.PipelineFakes.container;
import static io.driftagent.agent.pipeline.PipelineFakes.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AlertAssemblerTest {

    private static final Instant NOW = Instant.parse("2026-11-27T10:15:30.123Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final Verdict ALERT = new Verdict(Verdict.Decision.ALERT, "default", null, true);

    @Test
    void severityFollowsTheDocumentedMapping() {
        assertThat(AlertAssembler.severityOf(DriftKind.FILELESS)).isEqualTo(Alert.Severity.high);
        assertThat(AlertAssembler.severityOf(DriftKind.MODIFIED)).isEqualTo(Alert.Severity.high);
        assertThat(AlertAssembler.severityOf(DriftKind.ADDED)).isEqualTo(Alert.Severity.medium);
        assertThat(AlertAssembler.severityOf(DriftKind.MOUNT)).isEqualTo(Alert.Severity.medium);
        assertThat(AlertAssembler.severityOf(DriftKind.UNRESOLVED)).isEqualTo(Alert.Severity.low);
    }

    @Test
    void outsideKubernetesTheContainersLabelsAreShownAsPodLabels() {
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("node-a", null, null, null), CLOCK, () -> "id");
        ContainerContext docker = new ContainerContext(new ContainerId("web"), ContainerRuntime.DOCKER, "/docker/web",
                null, null);
        WorkloadMetadata labelled = new WorkloadMetadata(null, null, null, java.util.Map.of("team", "payments"), "web",
                "shop/web:1", null);

        Alert alert = assembler.alert(exec(77, 0, "/tmp/x", 0), ProcessSnapshot.UNKNOWN, docker, labelled,
                Classification.unresolved("/tmp/x", "test"), ALERT, false);

        assertThat(alert.pod()).isEqualTo(new Alert.Pod(null, null, null, java.util.Map.of("team", "payments")));
    }

    @Test
    void unknownPartsStayNullInsteadOfBeingInvented() {
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("node-a", null, null, null), CLOCK, () -> "id");
        ContainerContext plain = new ContainerContext(new ContainerId("sandbox"), ContainerRuntime.DOCKER,
                "/docker/sandbox", null, null);

        Alert alert = assembler.alert(exec(77, 0, "/dev/shm/x", 0), ProcessSnapshot.UNKNOWN, plain,
                WorkloadMetadata.UNKNOWN, Classification.unresolved("/dev/shm/x", "container gone"), ALERT, false);

        assertThat(alert.pod()).isNull();
        assertThat(alert.cloud()).isNull();
        assertThat(alert.cluster()).isNull();
        assertThat(alert.process().parent()).isNull();
        assertThat(alert.process().exe()).isNull();
        assertThat(alert.process().cmdline()).isEmpty();
        assertThat(alert.container()).isEqualTo(new Alert.Container("sandbox", null, "docker", null, null));
        assertThat(alert.drift()).isEqualTo(new Alert.Drift("UNRESOLVED", "/dev/shm/x", null, null, null, "container gone"));
        assertThat(alert.severity()).isEqualTo(Alert.Severity.low);
        assertThat(alert.rule()).isEqualTo(new Alert.Rule("default", null));
        assertThat(alert.process().ancestors()).isEmpty();
        assertThat(alert.process().session()).isNull();
        assertThat(alert.process().cwd()).isNull();
        assertThat(alert.process().euid()).isNull();
        assertThat(alert.process().loginUid()).isNull();
        assertThat(alert.process().auditSessionId()).isNull();
    }

    @Test
    void theLineageOfTheSnapshotIsTheProcesssAncestorsSessionCwdAndIds() {
        // given a snapshot whose lineage names two ancestors and an exec session's leader
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("node-a", null, null, null), CLOCK, () -> "id");
        ContainerContext web = new ContainerContext(new ContainerId("web"), ContainerRuntime.DOCKER, "/docker/web",
                null, null);
        List<Alert.Ancestor> ancestors = List.of(new Alert.Ancestor(5, "/bin/busybox", List.of("sh", "-c", "x")),
                new Alert.Ancestor(4, null, List.of()));
        io.driftagent.agent.lineage.ProcessLineage lineage = new io.driftagent.agent.lineage.ProcessLineage(ancestors,
                new io.driftagent.agent.lineage.ProcessLineage.SessionLeader(Alert.SessionKind.exec,
                        new ExecEvent.ProcessKey(4, 99L)), "/tmp/work", "/bin/busybox", 0, 1000, 3L);

        // when
        Alert alert = assembler.alert(exec(77, 5, "/tmp/x", 0), new ProcessSnapshot(null, List.of(), "/bin/busybox",
                lineage), web, WorkloadMetadata.UNKNOWN, Classification.unresolved("/tmp/x", "test"), ALERT, false);

        // then
        assertThat(alert.process().ancestors()).isEqualTo(ancestors);
        assertThat(alert.process().session()).isEqualTo(lineage.session("web"));
        assertThat(alert.process().session().kind()).isEqualTo(Alert.SessionKind.exec);
        assertThat(alert.process().cwd()).isEqualTo("/tmp/work");
        assertThat(alert.process().euid()).isZero();
        assertThat(alert.process().loginUid()).isEqualTo(1000);
        assertThat(alert.process().auditSessionId()).isEqualTo(3L);
        assertThat(alert.process().parent()).isEqualTo(new Alert.Parent(5, "/bin/busybox"));
    }

    @Test
    void theKernelsArgvAndPathAreTheCommandLineAndExeOfAProcessProcNoLongerHas() {
        // given an fexecve'd drop that exited before /proc was read: the kernel's facts from exec time
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("node-a", null, null, null), CLOCK, () -> "id");
        ExecEvent.KernelFacts kernel = new ExecEvent.KernelFacts("/tmp/fx", false, false, false,
                java.util.List.of("fx", "--run"), false, 2, 0, 0, -1, -1, "sh");
        ExecEvent event = withKernel(exec(77, 5, "/dev/fd/3", 0), kernel, ExecEvent.FileId.NONE);
        // when
        Alert alert = assembler.alert(event, ProcessSnapshot.UNKNOWN, container(), WorkloadMetadata.UNKNOWN,
                new Classification(DriftKind.ADDED, "/tmp/fx", null, null, null, null), ALERT, false);
        // then
        assertThat(alert.process().exe()).isEqualTo("/tmp/fx");
        assertThat(alert.process().cmdline()).containsExactly("fx", "--run");
        // and the kernel's facts win over a /proc read late (the process may have exec'd something else since)
        Alert late = assembler.alert(event, new ProcessSnapshot("/bin/sleep", java.util.List.of("sleep", "9"), "/bin/sh"),
                container(), WorkloadMetadata.UNKNOWN,
                new Classification(DriftKind.ADDED, "/tmp/fx", null, null, null, null), ALERT, false);
        assertThat(late.process().exe()).isEqualTo("/tmp/fx");
        assertThat(late.process().cmdline()).containsExactly("fx", "--run");
        assertThat(late.process().parent()).isEqualTo(new Alert.Parent(5, "/bin/sh"));
    }

    @Test
    void aScriptsExeIsItsInterpreterFromProcNotTheKernelsScriptPath() {
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("node-a", null, null, null), CLOCK, () -> "id");
        ExecEvent.KernelFacts kernel = new ExecEvent.KernelFacts("/tmp/s.sh", false, false, false,
                java.util.List.of("/bin/sh", "/tmp/s.sh"), false, 2, 0, 0, -1, -1, "sh");
        ExecEvent event = withKernel(exec(77, 5, "/tmp/s.sh", 0), kernel, new ExecEvent.FileId(64, 5));

        Alert alert = assembler.alert(event, new ProcessSnapshot("/bin/busybox", java.util.List.of(), null), container(),
                WorkloadMetadata.UNKNOWN, new Classification(DriftKind.ADDED, "/tmp/s.sh", null, null, null, null),
                ALERT, false);

        assertThat(alert.process().exe()).isEqualTo("/bin/busybox");
        assertThat(alert.process().cmdline()).containsExactly("/bin/sh", "/tmp/s.sh");
    }

    private static ExecEvent withKernel(ExecEvent e, ExecEvent.KernelFacts kernel, ExecEvent.FileId interpreter) {
        return new ExecEvent(e.pid(), e.tgid(), e.ppid(), e.uid(), e.gid(), e.startTimeNs(), e.comm(), e.filename(),
                e.file(), interpreter, e.cgroupId(), e.mountNsId(), e.flags(), e.source(), e.timestampNs(), kernel);
    }

    @Test
    void aModifiedImageBinaryCarriesItsImagePathAndLayer() {
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("n", "c", "gcp", "proj-1"), CLOCK, () -> "id");
        Classification modified = new Classification(DriftKind.MODIFIED, "/usr/bin/ls", "ee".repeat(32),
                "/usr/bin/ls", "sha256:layer", null);

        Alert alert = assembler.alert(exec(1234, "/usr/bin/ls", 0), new ProcessSnapshot("/usr/bin/ls", List.of("ls"), null),
                container(), WorkloadMetadata.UNKNOWN, modified, ALERT, false);

        assertThat(alert.drift()).isEqualTo(new Alert.Drift("MODIFIED", "/usr/bin/ls", "ee".repeat(32),
                "/usr/bin/ls", "sha256:layer", null));
        assertThat(alert.severity()).isEqualTo(Alert.Severity.high);
        assertThat(alert.pod().uid()).isEqualTo(PipelineFakes.POD_UID);
        assertThat(alert.cloud()).isEqualTo(new Alert.Cloud("gcp", "proj-1"));
        assertThat(alert.process().parent()).isEqualTo(new Alert.Parent(1, null));
    }

    @Test
    void onlyADeniedExecIsReportedAsBlockedWhileActionKeepsThePolicysDecision() {
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("n", null, null, null), CLOCK, () -> "id");
        Classification added = new Classification(DriftKind.ADDED, "/tmp/x", null, null, null, null);
        Verdict block = new Verdict(Verdict.Decision.BLOCK, "deny-tmp", 1, false);

        Alert ran = assembler.alert(exec(1, "/tmp/x", 0), ProcessSnapshot.UNKNOWN, container(), WorkloadMetadata.UNKNOWN,
                added, block, false);
        Alert denied = assembler.alert(exec(1, "/tmp/x", 0), ProcessSnapshot.UNKNOWN, container(), WorkloadMetadata.UNKNOWN,
                added, block, true);

        assertThat(ran.alertType()).isEqualTo(Alert.AlertType.BinaryDrift);
        assertThat(ran.action()).isEqualTo("block");
        assertThat(denied.alertType()).isEqualTo(Alert.AlertType.BinaryDriftBlocked);
        assertThat(denied.action()).isEqualTo("block");
    }

    @Test
    void aLibraryLoadIsLibraryDriftOfTheLibraryWithTheLoadingProcesssExeAndNeverBlocked() {
        // given a dropped library mapped by the image's /usr/bin/app, which exited before /proc was read
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("n", null, null, null), CLOCK, () -> "id");
        ExecEvent.KernelFacts kernel = new ExecEvent.KernelFacts("/tmp/evil.so", false, false, false,
                List.of("/usr/bin/app", "x"), false, -1, 0, -1, -1, -1, null);
        ExecEvent e = exec(77, 5, "/tmp/evil.so", 0);
        ExecEvent load = new ExecEvent(e.pid(), e.tgid(), e.ppid(), e.uid(), e.gid(), e.startTimeNs(), e.comm(),
                e.filename(), e.file(), ExecEvent.FileId.NONE, e.cgroupId(), e.mountNsId(), e.flags(), e.source(),
                e.timestampNs(), kernel, ExecEvent.Trigger.LIBRARY_LOAD, "/usr/bin/app");
        Classification added = new Classification(DriftKind.ADDED, "/tmp/evil.so", null, null, null, null);
        Verdict block = new Verdict(Verdict.Decision.BLOCK, "deny-tmp", 1, false);

        // when a block rule decides it
        Alert alert = assembler.alert(load, ProcessSnapshot.UNKNOWN, container(), WorkloadMetadata.UNKNOWN, added,
                block, false);

        // then
        assertThat(alert.alertType()).isEqualTo(Alert.AlertType.LibraryDrift);
        assertThat(alert.action()).as("a library load is never blocked").isEqualTo("alert");
        assertThat(alert.drift().path()).isEqualTo("/tmp/evil.so");
        assertThat(alert.process().exe()).isEqualTo("/usr/bin/app");
        assertThat(alert.process().cmdline()).containsExactly("/usr/bin/app", "x");
        assertThat(AlertAssembler.triggerOf(load)).isEqualTo(io.driftagent.policy.model.Trigger.LIBRARY);
        assertThat(AlertAssembler.triggerOf(e)).isEqualTo(io.driftagent.policy.model.Trigger.EXEC);
        assertThat(assembler.facts(WorkloadMetadata.UNKNOWN, added, AlertAssembler.triggerOf(load)).trigger())
                .isEqualTo(io.driftagent.policy.model.Trigger.LIBRARY);
        // and without the kernel's exe, /proc's
        ExecEvent noExe = new ExecEvent(e.pid(), e.tgid(), e.ppid(), e.uid(), e.gid(), e.startTimeNs(), e.comm(),
                e.filename(), e.file(), ExecEvent.FileId.NONE, e.cgroupId(), e.mountNsId(), e.flags(), e.source(),
                e.timestampNs(), kernel, ExecEvent.Trigger.LIBRARY_LOAD, null);
        assertThat(assembler.alert(noExe, new ProcessSnapshot("/usr/bin/app2", List.of(), null), container(),
                WorkloadMetadata.UNKNOWN, added, ALERT, false).process().exe()).isEqualTo("/usr/bin/app2");
    }

    @Test
    void idsAreVersionSevenUuidsCarryingTheClocksMilliseconds() {
        TimeOrderedIds ids = new TimeOrderedIds(CLOCK);

        UUID first = UUID.fromString(ids.get());
        UUID second = UUID.fromString(ids.get());

        assertThat(first.version()).isEqualTo(7);
        assertThat(first.variant()).isEqualTo(2);
        assertThat(first.getMostSignificantBits() >>> 16).isEqualTo(NOW.toEpochMilli());
        assertThat(first).isNotEqualTo(second);
    }

    @Test
    void theAlertTimeIsTheExecsMonotonicTimestampOnTheWallClockWithImplausibleOnesReplacedByNow() {
        // given a wall clock at NOW when the monotonic clock reads 1,000 s
        long[] monotonic = {1_000_000_000_000L};
        AlertAssembler assembler = new AlertAssembler(new DeploymentIdentity("n", null, null, null), CLOCK,
                () -> monotonic[0], () -> "id");

        // when execs stamped 200 ms and 3 s before that are assembled, and ones that cannot be an exec's time
        Instant recent = time(assembler, monotonic[0] - 200_000_000L);
        Instant older = time(assembler, monotonic[0] - 3_000_000_000L);
        Instant unset = time(assembler, 0);
        Instant future = time(assembler, monotonic[0] + 5_000_000_000L);
        Instant ancient = time(assembler, monotonic[0] - 7_200_000_000_000L);

        // then
        assertThat(recent).isEqualTo(NOW.minusMillis(200));
        assertThat(older).isEqualTo(NOW.minusSeconds(3));
        assertThat(unset).isEqualTo(NOW);
        assertThat(future).isEqualTo(NOW);
        assertThat(ancient).isEqualTo(NOW);
    }

    private static Instant time(AlertAssembler assembler, long timestampNs) {
        return assembler.alert(exec(1, "/tmp/x", timestampNs), ProcessSnapshot.UNKNOWN, container(),
                WorkloadMetadata.UNKNOWN, Classification.unresolved("/tmp/x", "test"), ALERT, false).time();
    }
}
