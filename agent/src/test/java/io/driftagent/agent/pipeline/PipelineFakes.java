package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Small in-memory stand-ins for the components the pipeline calls. */
final class PipelineFakes {

    static final ContainerId CONTAINER = new ContainerId("3f4e1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f");
    static final String POD_UID = "6d1c7a52-7c1e-4f0e-9d7e-1b2c3d4e5f60";

    private PipelineFakes() {
    }

    static ExecEvent exec(int tgid, String filename, long timestampNs) {
        return exec(tgid, 1, filename, timestampNs);
    }

    static ExecEvent exec(int tgid, int ppid, String filename, long timestampNs) {
        return new ExecEvent(tgid, tgid, ppid, 1000, 1000, 123L, "sh", filename,
                new ExecEvent.FileId(64, 99), ExecEvent.FileId.NONE, 4242L, 4026531840L,
                new ExecEvent.Flags(true, true, false, false), ExecEvent.SourceKind.EBPF, timestampNs);
    }

    /** The container's root overlay's device (its mounts as attribution reads them). */
    static final long ROOT_OVERLAY_DEV = 64;

    static ContainerContext container() {
        io.driftagent.agent.attribution.ContainerMount rootMount = new io.driftagent.agent.attribution.ContainerMount(
                100, ROOT_OVERLAY_DEV, "/", "/", "overlay", "overlay");
        io.driftagent.agent.attribution.ContainerFilesystems filesystems =
                new io.driftagent.agent.attribution.ContainerFilesystems(java.util.Optional.of(
                        new io.driftagent.agent.attribution.OverlayRoot(rootMount,
                                java.util.List.of(java.nio.file.Path.of("/layers/0")),
                                java.nio.file.Path.of("/layers/upper"), java.nio.file.Path.of("/layers/work"))),
                        java.util.List.of(rootMount));
        return new ContainerContext(CONTAINER, ContainerRuntime.CONTAINERD,
                "/kubepods/besteffort/pod" + POD_UID + "/" + CONTAINER.value(), POD_UID, filesystems);
    }

    static WorkloadMetadata metadata() {
        return new WorkloadMetadata("web-7d9f", "shop", POD_UID, Map.of("app", "web"), "nginx",
                "registry.example/nginx:1.27", "sha256:" + "ab".repeat(32));
    }

    /** Execs of pid >= 1000 are in {@link #CONTAINER}; lower pids are host processes. */
    static ContainerAttributor attributor() {
        return event -> event.tgid() >= 1000 ? Optional.of(container()) : Optional.empty();
    }

    /** Files under /usr are the image's; anything else was added. */
    static DriftClassifier classifier() {
        return (event, container) -> event.filename().startsWith("/usr/")
                ? new Classification(DriftKind.IMAGE, event.filename(), null, event.filename(), "layer0", null)
                : new Classification(DriftKind.ADDED, event.filename(), "cd".repeat(32), null, null, null);
    }

    static PolicyEvaluator alertAll() {
        return facts -> new Verdict(Verdict.Decision.ALERT, "alert-everything", 10, false);
    }

    /** A metadata cache that tests fill in whenever they like. */
    static final class FakeMetadata implements MetadataProvider {
        final Map<ContainerId, WorkloadMetadata> known = new ConcurrentHashMap<>();
        final Map<ContainerId, WorkloadMetadata> lastResort = new ConcurrentHashMap<>();

        @Override
        public Optional<WorkloadMetadata> lookup(ContainerId id) {
            return Optional.ofNullable(known.get(id));
        }

        @Override
        public Optional<WorkloadMetadata> lastResort(ContainerId id) {
            return Optional.ofNullable(lastResort.get(id));
        }
    }

    static final class RecordingPublisher implements AlertPublisher {
        final LinkedBlockingQueue<Alert> alerts = new LinkedBlockingQueue<>();

        @Override
        public boolean publish(Alert alert) {
            return alerts.add(alert);
        }

        Alert next(Duration timeout) throws InterruptedException {
            Alert alert = alerts.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (alert == null) {
                throw new AssertionError("no alert within " + timeout);
            }
            return alert;
        }

        List<Alert> drained() {
            return List.copyOf(alerts);
        }
    }
}
