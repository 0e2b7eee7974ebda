package io.driftagent.agent.pipeline;

import static io.driftagent.agent.pipeline.PipelineFakes.CONTAINER;
import static io.driftagent.agent.pipeline.PipelineFakes.alertAll;
import static io.driftagent.agent.pipeline.PipelineFakes.attributor;
import static io.driftagent.agent.pipeline.PipelineFakes.metadata;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.pipeline.PipelineFakes.FakeMetadata;
import io.driftagent.agent.pipeline.PipelineFakes.RecordingPublisher;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** When the pipeline reads /proc for an exec: early for what may be drift, never for the image's own files. */
class ProcessSnapshotTimingTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final ExecEvent.Flags IMAGE_LAYER = new ExecEvent.Flags(true, false, false, false);
    private static final ExecEvent.Flags UPPER_LAYER = new ExecEvent.Flags(true, true, false, false);

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final FakeMetadata metadata = new FakeMetadata();
    private final RecordingPublisher publisher = new RecordingPublisher();
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private DriftPipeline pipeline;
    private Process sleeper;

    @AfterEach
    void stop() throws InterruptedException {
        if (pipeline != null) {
            pipeline.drainAndStop(WAIT);
        }
        if (sleeper != null) {
            sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void anExecTheKernelFlagsAsAnImageLayerFileIsNeverReadFromProc() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        AtomicInteger reads = new AtomicInteger();
        start(classifierSaying(DriftKind.IMAGE), event -> {
            reads.incrementAndGet();
            return ProcessSnapshot.UNKNOWN;
        });

        pipeline.sink().offer(exec(4321, "/usr/bin/ls", IMAGE_LAYER));
        pipeline.drainAndStop(WAIT);
        pipeline = null;

        assertThat(calls).containsExactly("classify /usr/bin/ls");
        assertThat(reads).hasValue(0);
        assertThat(snapshots("attribution") + snapshots("after_classification")).isZero();
        assertThat(registry.get(PipelineMetrics.STOPPED_EARLY).tag("reason", "image_file").counter().count()).isEqualTo(1);
    }

    @Test
    void anExecOnTheWritableLayerIsSnapshotBeforeItIsClassified() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifierSaying(DriftKind.ADDED), event -> {
            calls.add("inspect " + event.tgid());
            return new ProcessSnapshot("/tmp/miner", List.of("/tmp/miner", "--pool"), "/bin/sh");
        });

        pipeline.sink().offer(exec(4321, "/tmp/miner", UPPER_LAYER));

        Alert alert = publisher.next(WAIT);
        assertThat(calls).containsExactly("inspect 4321", "classify /tmp/miner");
        assertThat(alert.process().cmdline()).containsExactly("/tmp/miner", "--pool");
        assertThat(alert.process().parent().exe()).isEqualTo("/bin/sh");
        assertThat(snapshots("attribution")).isEqualTo(1);
        assertThat(snapshots("after_classification")).isZero();
    }

    @Test
    void aDriftExecTheKernelFlaggedAsImageLayerIsSnapshotAfterClassification() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifierSaying(DriftKind.MOUNT), event -> {
            calls.add("inspect " + event.tgid());
            return new ProcessSnapshot("/data/tool", List.of("/data/tool"), "/bin/sh");
        });

        pipeline.sink().offer(exec(4321, "/data/tool", IMAGE_LAYER));

        Alert alert = publisher.next(WAIT);
        assertThat(calls).containsExactly("classify /data/tool", "inspect 4321");
        assertThat(alert.process().exe()).isEqualTo("/data/tool");
        assertThat(snapshots("after_classification")).isEqualTo(1);
        assertThat(snapshots("attribution")).isZero();
    }

    @Test
    void anExecTheGuardDeniedIsSnapshotAtOnceWhateverTheFlags() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifierSaying(DriftKind.ADDED), event -> {
            calls.add("inspect " + event.tgid());
            return new ProcessSnapshot("/bin/sh", List.of("sh"), null);
        });

        pipeline.deniedSink().offer(exec(4321, "/tmp/denied", IMAGE_LAYER));

        assertThat(publisher.next(WAIT).process().exe()).isEqualTo("/bin/sh");
        assertThat(calls).containsExactly("inspect 4321", "classify /tmp/denied");
    }

    @Test
    void aLiveDriftedProcessGetsItsRealExeAndCommandLineFromProc() throws Exception {
        Path sleep = Path.of("/bin/sleep");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(sleep), "/bin/sleep is absent");
        metadata.known.put(CONTAINER, metadata());
        sleeper = new ProcessBuilder(sleep.toString(), "37").start();
        int pid = Math.toIntExact(sleeper.pid());
        start(classifierSaying(DriftKind.ADDED), ProcFsProcessInspector.host());

        pipeline.sink().offer(exec(pid, "/tmp/sleep", UPPER_LAYER));

        Alert alert = publisher.next(WAIT);
        assertThat(alert.process().exe()).isEqualTo(sleep.toRealPath().toString());
        assertThat(alert.process().cmdline()).containsExactly(sleep.toString(), "37");
        assertThat(alert.process().parent().exe())
                .isEqualTo(Path.of("/proc/self/exe").toRealPath().toString()); // this JVM forked it
    }

    private void start(DriftClassifier classifier, ProcessInspector inspector) {
        pipeline = new DriftPipeline(new PipelineParts(attributor(), inspector, classifier, metadata, alertAll(),
                new AlertAssembler(new DeploymentIdentity("n", null, null, null), Clock.systemUTC(), () -> "id"),
                publisher), PipelineSettings.defaults(), registry, MonotonicClock.SYSTEM);
        pipeline.start();
    }

    private DriftClassifier classifierSaying(DriftKind kind) {
        return (event, container) -> {
            calls.add("classify " + event.filename());
            return new Classification(kind, event.filename(), null, null, null, null);
        };
    }

    private static ExecEvent exec(int tgid, String filename, ExecEvent.Flags flags) {
        return new ExecEvent(tgid, tgid, (int) ProcessHandle.current().pid(), 0, 0, 1L, "x", filename,
                new ExecEvent.FileId(64, 99), ExecEvent.FileId.NONE, 4242L, 0L, flags, ExecEvent.SourceKind.EBPF,
                System.nanoTime());
    }

    private double snapshots(String when) {
        return registry.get(PipelineMetrics.PROCESS_SNAPSHOTS).tag("when", when).counter().count();
    }
}
