package io.driftagent.agent.pipeline;

import static io.driftagent.agent.pipeline.PipelineFakes.CONTAINER;
import static io.driftagent.agent.pipeline.PipelineFakes.POD_UID;
import static io.driftagent.agent.pipeline.PipelineFakes.alertAll;
import static io.driftagent.agent.pipeline.PipelineFakes.attributor;
import static io.driftagent.agent.pipeline.PipelineFakes.classifier;
import static io.driftagent.agent.pipeline.PipelineFakes.exec;
import static io.driftagent.agent.pipeline.PipelineFakes.metadata;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.PipelineFakes.FakeMetadata;
import io.driftagent.agent.pipeline.PipelineFakes.RecordingPublisher;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DriftPipelineTest {

    private static final Instant NOW = Instant.parse("2026-11-27T10:15:30Z");
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final DeploymentIdentity IDENTITY = new DeploymentIdentity("node-a", "prod-eu", "azure", "sub-123");

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final FakeMetadata metadata = new FakeMetadata();
    private final RecordingPublisher publisher = new RecordingPublisher();
    private final AlertAssembler assembler =
            new AlertAssembler(IDENTITY, Clock.fixed(NOW, ZoneOffset.UTC), () -> "alert-1");
    private DriftPipeline pipeline;

    @AfterEach
    void stop() throws InterruptedException {
        if (pipeline != null) {
            pipeline.drainAndStop(Duration.ofSeconds(2));
        }
    }

    private DriftPipeline start(DriftClassifier classifier, PolicyEvaluator policy, PipelineSettings settings) {
        ProcessInspector inspector = event -> new ProcessSnapshot("/bin/sh", List.of("sh", "-c", event.filename()), "/usr/bin/bash");
        pipeline = new DriftPipeline(
                new PipelineParts(attributor(), inspector, classifier, metadata, policy, assembler, publisher),
                settings, registry, MonotonicClock.SYSTEM);
        if (keeping != null) {
            pipeline.keepImageExecsIn(keeping);
        }
        pipeline.start();
        return pipeline;
    }

    /** Where the pipeline tells the roots it learns, when a test gives one. */
    private io.driftagent.agent.source.ImageExecKeeping keeping;

    /** The program's side of {@link io.driftagent.agent.source.ImageExecKeeping}: what it was told. */
    private static final class RecordingKernel implements io.driftagent.agent.source.ImageExecKeeping.Kernel {
        final List<String> roots = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean keep;

        @Override
        public boolean rootOverlay(long cgroupId, long device) {
            roots.add(cgroupId + "=" + device);
            return true;
        }

        @Override
        public boolean keep(boolean on) {
            keep = on;
            return true;
        }

        @Override
        public long kept() {
            return 0;
        }
    }

    @Test
    void eachContainerRootItLearnsIsToldToTheSourceOnceAndTheSourceMayKeep() throws Exception {
        RecordingKernel kernel = new RecordingKernel();
        keeping = new io.driftagent.agent.source.ImageExecKeeping();
        keeping.attach(kernel);
        // when the container execs its image's file twice (the second one skips), then a file of another overlay
        runAfterOneImageExec(new CountingClassifier(false, null), imageExec(5002, "/usr/bin/noop", 64),
                imageExec(5004, "/usr/bin/other", 65));

        // then the source was told the container's root once, not the other overlay, and keeps
        assertThat(kernel.roots).containsExactly("4242=64");
        assertThat(kernel.keep).isTrue();
    }

    @Test
    void theSourceKeepsNothingWhileTheClassifierWatchesAnExec() throws Exception {
        RecordingKernel kernel = new RecordingKernel();
        keeping = new io.driftagent.agent.source.ImageExecKeeping();
        keeping.attach(kernel);
        // given a classifier watching one file (a self-test canary, maybe an image file of its container)
        runAfterOneImageExec(new CountingClassifier(false, "/usr/bin/canary"), imageExec(5002, "/usr/bin/noop", 64));

        assertThat(kernel.roots).containsExactly("4242=64");
        assertThat(keeping.keeping()).isFalse();
        assertThat(kernel.keep).isFalse();
    }

    private DriftPipeline start() {
        return start(classifier(), alertAll(), PipelineSettings.defaults());
    }

    @Test
    void anAddedBinaryInAKnownPodBecomesAnAlertWithEveryField() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start();

        pipeline.sink().offer(exec(4321, "/tmp/xmrig", System.nanoTime()));

        Alert alert = publisher.next(WAIT);
        assertThat(alert.schemaVersion()).isEqualTo(Alert.SCHEMA_VERSION);
        assertThat(alert.id()).isEqualTo("alert-1");
        assertThat(alert.time()).as("the exec's time: just before the wall clock's NOW").isBetween(NOW.minusSeconds(5), NOW);
        assertThat(alert.alertType()).isEqualTo(Alert.AlertType.BinaryDrift);
        assertThat(alert.severity()).isEqualTo(Alert.Severity.medium);
        assertThat(alert.action()).isEqualTo("alert");
        assertThat(alert.drift()).isEqualTo(new Alert.Drift("ADDED", "/tmp/xmrig", "cd".repeat(32), null, null, null));
        assertThat(alert.process()).isEqualTo(new Alert.Process(4321, 1, 1000, "/bin/sh",
                List.of("sh", "-c", "/tmp/xmrig"), new Alert.Parent(1, "/usr/bin/bash")));
        assertThat(alert.container()).isEqualTo(new Alert.Container(CONTAINER.value(), "nginx", "containerd",
                "registry.example/nginx:1.27", "sha256:" + "ab".repeat(32)));
        assertThat(alert.pod()).isEqualTo(new Alert.Pod("web-7d9f", "shop", POD_UID, Map.of("app", "web")));
        assertThat(alert.node()).isEqualTo("node-a");
        assertThat(alert.cluster()).isEqualTo("prod-eu");
        assertThat(alert.cloud()).isEqualTo(new Alert.Cloud("azure", "sub-123"));
        assertThat(alert.rule()).isEqualTo(new Alert.Rule("alert-everything", 10));
    }

    @Test
    void thePolicySeesCloudClusterWorkloadAndFileFacts() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        List<DriftFacts> seen = new CopyOnWriteArrayList<>();
        start(classifier(), facts -> {
            seen.add(facts);
            return new Verdict(Verdict.Decision.ALERT, "r", 1, false);
        }, PipelineSettings.defaults());

        pipeline.sink().offer(exec(4321, "/tmp/xmrig", System.nanoTime()));
        publisher.next(WAIT);

        assertThat(seen).containsExactly(new DriftFacts("azure", "sub-123", "prod-eu", "shop", "web-7d9f",
                Map.of("app", "web"), "nginx", "registry.example/nginx:1.27", DriftKind.ADDED, "/tmp/xmrig",
                "cd".repeat(32)));
    }

    @Test
    void blockingHearsOfEachAttributedContainerAndOfEachVerdictAtTheActStageBeforeTheAlertIsPublished() throws Exception {
        // given a pipeline whose enforcement records what it is told
        metadata.known.put(CONTAINER, metadata());
        List<String> told = new CopyOnWriteArrayList<>();
        Enforcement recording = new Enforcement() {
            @Override
            public void containerSeen(io.driftagent.agent.attribution.ContainerContext container,
                                      io.driftagent.agent.source.ExecEvent event) {
                told.add("seen " + container.id().value() + " " + event.tgid());
            }

            @Override
            public void acted(io.driftagent.agent.source.ExecEvent event, boolean denied, Classification classification,
                              Verdict verdict) {
                told.add("acted " + event.tgid() + " " + classification.kind() + " " + verdict.decision()
                        + (denied ? " denied" : " ran") + " published=" + publisher.alerts.size());
            }
        };
        ProcessInspector inspector = event -> new ProcessSnapshot("/bin/sh", List.of("sh"), "/usr/bin/bash");
        pipeline = new DriftPipeline(new PipelineParts(attributor(), inspector, classifier(), metadata,
                facts -> new Verdict(Verdict.Decision.BLOCK, "block-all", 1, false), assembler, publisher, recording),
                PipelineSettings.defaults(), registry, MonotonicClock.SYSTEM);
        pipeline.start();

        // when a drifted exec runs
        pipeline.sink().offer(exec(4321, "/tmp/xmrig", System.nanoTime()));
        publisher.next(WAIT);

        // then blocking was told its container was seen, then the verdict, before the alert went to the reporter
        assertThat(told).containsExactly("seen " + CONTAINER.value() + " 4321", "acted 4321 ADDED BLOCK ran published=0");
    }

    @Test
    void onceAContainersImageExecIsClassifiedItsLaterOnesFromTheSameRootSkipTheStages() throws Exception {
        // when the container execs its image's file (the kernel's flags: overlay, not the writable layer) three
        // times, then a file of another overlay device, then a drop
        CountingClassifier classifier = new CountingClassifier(false, null);
        runAfterOneImageExec(classifier, imageExec(5001, "/usr/bin/noop", 64), imageExec(5002, "/usr/bin/noop", 64),
                imageExec(5003, "/usr/bin/noop", 64), imageExec(5004, "/usr/bin/other", 65));

        // then the first, the other device's and the drop were classified; the two repeats were IMAGE unasked
        assertThat(classifier.calls.get()).isEqualTo(3);
        assertThat(count(PipelineMetrics.STOPPED_EARLY, "reason", "image_file")).isEqualTo(4.0);
    }

    @Test
    void anImageExecOnAnotherOverlayThanTheContainersRootTeachesNothing() throws Exception {
        // when image-flagged execs come from an overlay mounted into the container (device 77, not its root's),
        // which this classifier calls IMAGE too
        CountingClassifier classifier = new CountingClassifier(false, null);
        runAfterOneImageExec(classifier, imageExec(5001, "/usr/bin/noop", 77), imageExec(5002, "/usr/bin/noop", 77));

        // then each of them is classified
        assertThat(classifier.calls.get()).isEqualTo(3);
    }

    @Test
    void aContainerWhoseClassifierObservesEveryExecHasNoneSkipped() throws Exception {
        // given a classifier that must see every exec of its containers (the agent's own sandboxes: the demo, the
        // self-test)
        CountingClassifier classifier = new CountingClassifier(true, null);
        runAfterOneImageExec(classifier, imageExec(5001, "/usr/bin/noop", 64), imageExec(5002, "/usr/bin/noop", 64));

        assertThat(classifier.calls.get()).isEqualTo(3);
    }

    @Test
    void anExecTheClassifierWatchesIsClassifiedEvenWhereItsContainersImageExecsSkip() throws Exception {
        // given a classifier watching one file (a self-test canary that is an image file of its container)
        CountingClassifier classifier = new CountingClassifier(false, "/usr/bin/canary");
        runAfterOneImageExec(classifier, imageExec(5001, "/usr/bin/noop", 64), imageExec(5002, "/usr/bin/noop", 64),
                imageExec(5003, "/usr/bin/canary", 64));

        // the first noop, the canary and the drop
        assertThat(classifier.calls.get()).isEqualTo(3);
    }

    /** Classifies as {@link PipelineFakes#classifier()} does, counting the calls; observes as told. */
    private static final class CountingClassifier implements DriftClassifier {
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        private final boolean everyExec;
        private final String watched;

        CountingClassifier(boolean everyExec, String watched) {
            this.everyExec = everyExec;
            this.watched = watched;
        }

        @Override
        public Classification classify(io.driftagent.agent.source.ExecEvent event,
                                       io.driftagent.agent.attribution.ContainerContext container) {
            calls.incrementAndGet();
            return classifier().classify(event, container);
        }

        @Override
        public boolean observesEveryExec(io.driftagent.agent.attribution.ContainerContext container) {
            return everyExec;
        }

        @Override
        public boolean observes(io.driftagent.agent.source.ExecEvent event) {
            return event.filename().equals(watched);
        }

        @Override
        public boolean observesSome() {
            return watched != null;
        }
    }

    /**
     * Offers the first exec and waits until it stopped as an image file (what classification learned is in place),
     * then the others and a drop, and waits for the drop's alert: every exec before it has passed by then.
     */
    private void runAfterOneImageExec(DriftClassifier classifier, io.driftagent.agent.source.ExecEvent first,
                                      io.driftagent.agent.source.ExecEvent... others) throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifier, alertAll(), PipelineSettings.defaults());
        pipeline.sink().offer(first);
        awaitImageFiles(1);
        for (io.driftagent.agent.source.ExecEvent exec : others) {
            pipeline.sink().offer(exec);
        }
        pipeline.sink().offer(exec(5005, "/tmp/xmrig", System.nanoTime()));
        publisher.next(WAIT);
    }

    @Test
    void whileBlockingSeesEveryExecNoImageExecSkipsTheStages() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
        Enforcement blocking = new Enforcement() {
            @Override
            public boolean seesEveryExec() {
                return true;
            }

            @Override
            public void containerSeen(io.driftagent.agent.attribution.ContainerContext container,
                                      io.driftagent.agent.source.ExecEvent event) {
                seen.incrementAndGet();
            }

            @Override
            public void acted(io.driftagent.agent.source.ExecEvent event, boolean denied, Classification classification,
                              Verdict verdict) {
            }
        };
        ProcessInspector inspector = event -> new ProcessSnapshot("/bin/sh", List.of("sh"), "/usr/bin/bash");
        pipeline = new DriftPipeline(new PipelineParts(attributor(), inspector, classifier(), metadata, alertAll(),
                assembler, publisher, blocking), PipelineSettings.defaults(), registry, MonotonicClock.SYSTEM);
        RecordingKernel kernel = new RecordingKernel();
        keeping = new io.driftagent.agent.source.ImageExecKeeping();
        keeping.attach(kernel);
        pipeline.keepImageExecsIn(keeping);
        pipeline.start();
        assertThat(keeping.keeping()).as("the source keeps nothing while blocking sees every exec").isFalse();

        pipeline.sink().offer(imageExec(5001, "/usr/bin/noop", 64));
        awaitCount(seen, 1);
        pipeline.sink().offer(imageExec(5002, "/usr/bin/noop", 64));
        pipeline.sink().offer(exec(5005, "/tmp/xmrig", System.nanoTime()));
        publisher.next(WAIT);

        assertThat(seen.get()).isEqualTo(3);
    }

    /** An exec the kernel flags as an image-layer file (overlay, not upper) on overlay device {@code dev}. */
    private static io.driftagent.agent.source.ExecEvent imageExec(int tgid, String filename, long dev) {
        return new io.driftagent.agent.source.ExecEvent(tgid, tgid, 1, 0, 0, 123L, "noop", filename,
                new io.driftagent.agent.source.ExecEvent.FileId(dev, 7), io.driftagent.agent.source.ExecEvent.FileId.NONE,
                4242L, 4026531840L, new io.driftagent.agent.source.ExecEvent.Flags(true, false, false, false),
                io.driftagent.agent.source.ExecEvent.SourceKind.EBPF, System.nanoTime());
    }

    /** Waits until {@code atLeast} execs stopped as image files (counted after what classification learned). */
    private void awaitImageFiles(int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (count(PipelineMetrics.STOPPED_EARLY, "reason", "image_file") < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(count(PipelineMetrics.STOPPED_EARLY, "reason", "image_file")).isGreaterThanOrEqualTo(atLeast);
    }

    private static void awaitCount(java.util.concurrent.atomic.AtomicInteger count, int atLeast)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (count.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(count.get()).isGreaterThanOrEqualTo(atLeast);
    }

    @Test
    void anExecTheGuardDeniedIsPublishedAsBlockedWhateverTheVerdictNow() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifier(), facts -> new Verdict(Verdict.Decision.IGNORE, "default", null, true),
                PipelineSettings.defaults());

        pipeline.deniedSink().offer(exec(2001, "/tmp/denied", System.nanoTime()));

        Alert alert = publisher.next(WAIT);
        assertThat(alert.alertType()).isEqualTo(Alert.AlertType.BinaryDriftBlocked);
        assertThat(alert.action()).isEqualTo("block");
        assertThat(alert.drift().path()).isEqualTo("/tmp/denied");
    }

    @Test
    void aDeniedExecOfferedWithItsClassificationIsReportedWithItWithoutBeingClassifiedAgain() throws Exception {
        // given a classifier that must not be called (the guard's decision classified the file already)
        metadata.known.put(CONTAINER, metadata());
        java.util.concurrent.atomic.AtomicInteger classified = new java.util.concurrent.atomic.AtomicInteger();
        start((event, container) -> {
            classified.incrementAndGet();
            return new Classification(DriftKind.ADDED, event.filename(), null, null, null, null);
        }, facts -> new Verdict(Verdict.Decision.BLOCK, "block-all", 1, false), PipelineSettings.defaults());

        // when
        pipeline.offerDenied(exec(2001, "/tmp/big", System.nanoTime()),
                new Classification(DriftKind.MODIFIED, "/tmp/big", "d".repeat(64), "/tmp/big", "/layer", null));

        // then
        Alert alert = publisher.next(WAIT);
        assertThat(alert.alertType()).isEqualTo(Alert.AlertType.BinaryDriftBlocked);
        assertThat(alert.drift().kind()).isEqualTo("MODIFIED");
        assertThat(alert.drift().sha256()).isEqualTo("d".repeat(64));
        assertThat(classified).hasValue(0);
    }

    @Test
    void aBlockVerdictOnAnExecThatRanIsReportedAsDriftAndIgnoredOrAllowedOnesOnlyCounted() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifier(), facts -> {
            switch (facts.path()) {
                case "/tmp/blocked":
                    return new Verdict(Verdict.Decision.BLOCK, "deny-tmp", 1, false);
                case "/tmp/allowed":
                    return new Verdict(Verdict.Decision.ALLOWED, "tools", 2, false);
                default:
                    return new Verdict(Verdict.Decision.IGNORE, "default", null, true);
            }
        }, PipelineSettings.defaults());

        pipeline.sink().offer(exec(2001, "/tmp/ignored", System.nanoTime()));
        pipeline.sink().offer(exec(2002, "/tmp/allowed", System.nanoTime()));
        pipeline.sink().offer(exec(2003, "/tmp/blocked", System.nanoTime()));

        Alert alert = publisher.next(WAIT);
        assertThat(alert.alertType()).as("the exec ran: nothing denied it").isEqualTo(Alert.AlertType.BinaryDrift);
        assertThat(alert.action()).isEqualTo("block");
        assertThat(alert.drift().path()).isEqualTo("/tmp/blocked");
        pipeline.drainAndStop(WAIT);
        assertThat(publisher.drained()).isEmpty();
        assertThat(verdicts("ADDED", "ignore")).isEqualTo(1);
        assertThat(verdicts("ADDED", "allowed")).isEqualTo(1);
        assertThat(verdicts("ADDED", "block")).isEqualTo(1);
    }

    @Test
    void hostExecsAndImageFilesStopEarlyAndAreCounted() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start();

        pipeline.sink().offer(exec(42, "/tmp/on-the-host", System.nanoTime()));
        pipeline.sink().offer(exec(4321, "/usr/bin/ls", System.nanoTime()));
        pipeline.sink().offer(exec(4322, "/tmp/dropped", System.nanoTime()));

        assertThat(publisher.next(WAIT).drift().path()).isEqualTo("/tmp/dropped");
        pipeline.drainAndStop(WAIT);
        assertThat(publisher.drained()).isEmpty();
        assertThat(count(PipelineMetrics.STOPPED_EARLY, "reason", "host_process")).isEqualTo(1);
        assertThat(count(PipelineMetrics.STOPPED_EARLY, "reason", "image_file")).isEqualTo(1);
    }

    @Test
    void anUnresolvedExecIsAlertedAndCountedByItsCause() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start((event, container) -> io.driftagent.agent.classification.Classification.unresolved(event.filename(),
                io.driftagent.agent.classification.UnresolvedReason.FILE_GONE, "executed file no longer in the container's view"),
                alertAll(), PipelineSettings.defaults());

        pipeline.sink().offer(exec(4322, "/tmp/vanished", System.nanoTime()));

        Alert alert = publisher.next(WAIT);
        assertThat(alert.drift().kind()).isEqualTo("UNRESOLVED");
        assertThat(count(PipelineMetrics.UNRESOLVED, "reason", "file_gone")).isEqualTo(1);
        assertThat(count(PipelineMetrics.UNRESOLVED, "reason", "container_unknown")).isZero();
    }

    @Test
    void aStuckStageMakesItsQueueDropAndCountWhileTheSourceNeverBlocks() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        CountDownLatch release = new CountDownLatch(1);
        PolicyEvaluator stuck = facts -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return alertAll().evaluate(facts);
        };
        start(classifier(), stuck, new PipelineSettings(16, 4, 16, List.of()));
        ExecEventSink sink = pipeline.sink();
        int offered = 20_000;

        int accepted = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            int ok = 0;
            for (int i = 0; i < offered; i++) {
                if (sink.offer(exec(1000 + i, "/tmp/x" + i, System.nanoTime()))) {
                    ok++;
                }
            }
            return ok;
        });

        // the policy stage (on the enrich thread) holds one item and the enrich queue four; all else the attribute
        // thread attributed and classified is dropped there
        waitUntil(() -> count(PipelineMetrics.DROPPED, "stage", "enrich", "reason", "queue_full") == accepted - 5);
        assertThat(count(PipelineMetrics.DROPPED, "stage", "attribute", "reason", "queue_full"))
                .isEqualTo(offered - accepted);
        assertThat(gauge(PipelineMetrics.QUEUE_DEPTH, "enrich")).isEqualTo(4);
        assertThat(gauge(PipelineMetrics.QUEUE_DEPTH, "attribute")).isZero();

        release.countDown();
        publisher.next(WAIT);
        waitUntil(() -> publisher.alerts.size() + 1 == 5);
    }

    @Test
    void alertTimesAreWhenTheExecsHappenedNotWhenAStalledPipelineGotToThem() throws Exception {
        // given a pipeline on the real clocks whose classification stalls until released
        metadata.known.put(CONTAINER, metadata());
        CountDownLatch release = new CountDownLatch(1);
        DriftClassifier stalled = (event, container) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return classifier().classify(event, container);
        };
        pipeline = new DriftPipeline(new PipelineParts(attributor(), ProcessInspector.NONE, stalled, metadata,
                alertAll(), new AlertAssembler(IDENTITY, Clock.systemUTC(), () -> "alert"), publisher),
                PipelineSettings.defaults(), registry, MonotonicClock.SYSTEM);
        pipeline.start();

        // when five execs happen 200 ms apart, each stamped by the source with CLOCK_MONOTONIC at capture
        List<Instant> happened = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            happened.add(Instant.now());
            pipeline.sink().offer(exec(3000 + i, "/tmp/stalled-" + i, System.nanoTime()));
            Thread.sleep(200);
        }
        Thread.sleep(500); // the stall goes on
        release.countDown();

        // then each alert's time is its exec's time: five distinct times about 200 ms apart
        List<Instant> times = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            times.add(publisher.next(WAIT).time());
        }
        times.sort(null);
        for (int i = 0; i < 5; i++) {
            assertThat(Duration.between(happened.get(i), times.get(i)).abs()).as("alert %d vs its exec", i)
                    .isLessThan(Duration.ofMillis(50));
        }
        for (int i = 1; i < 5; i++) {
            assertThat(Duration.between(times.get(i - 1), times.get(i)))
                    .isBetween(Duration.ofMillis(150), Duration.ofMillis(350));
        }
    }

    @Test
    void aStuckClassificationFillsTheSourceQueueWhichDropsWithoutBlockingTheSource() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        CountDownLatch release = new CountDownLatch(1);
        DriftClassifier stuck = (event, container) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return classifier().classify(event, container);
        };
        start(stuck, alertAll(), new PipelineSettings(16, 4, 16, List.of()));
        ExecEventSink sink = pipeline.sink();
        sink.offer(exec(1000, "/tmp/first", System.nanoTime()));
        waitUntil(() -> gauge(PipelineMetrics.QUEUE_DEPTH, "attribute") == 0); // the attribute thread holds it

        int accepted = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            int ok = 0;
            for (int i = 1; i <= 1000; i++) {
                if (sink.offer(exec(1000 + i, "/tmp/x" + i, System.nanoTime()))) {
                    ok++;
                }
            }
            return ok;
        });

        assertThat(accepted).isEqualTo(16);
        assertThat(count(PipelineMetrics.DROPPED, "stage", "attribute", "reason", "queue_full")).isEqualTo(1000 - 16);
        release.countDown();
        assertThat(publisher.next(WAIT).drift().path()).isEqualTo("/tmp/first");
    }

    @Test
    void theSelfTestsCanaryIsQueuedWhenTheSourceQueueIsFullForEverythingElse() throws Exception {
        // given a stuck classification, a source queue of 16 filled by a storm, and a predicate naming the canary
        metadata.known.put(CONTAINER, metadata());
        CountDownLatch release = new CountDownLatch(1);
        Set<String> classified = java.util.concurrent.ConcurrentHashMap.newKeySet();
        DriftClassifier stuck = (event, container) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            classified.add(event.filename());
            return classifier().classify(event, container);
        };
        ProcessInspector inspector = event -> new ProcessSnapshot("/bin/sh", List.of("sh"), "/usr/bin/bash");
        pipeline = new DriftPipeline(new PipelineParts(attributor(), inspector, stuck, metadata, alertAll(), assembler,
                publisher), new PipelineSettings(16, 4, 16, List.of()), registry, MonotonicClock.SYSTEM,
                event -> event.filename().equals("/tmp/canary"));
        pipeline.start();
        ExecEventSink sink = pipeline.sink();
        sink.offer(exec(2000, "/tmp/first", System.nanoTime()));
        waitUntil(() -> gauge(PipelineMetrics.QUEUE_DEPTH, "attribute") == 0); // the attribute thread holds it
        int stormAccepted = 0;
        for (int i = 1; i <= 100; i++) {
            if (sink.offer(exec(2000 + i, "/tmp/storm" + i, System.nanoTime()))) {
                stormAccepted++;
            }
        }

        // when the canary's exec comes, and the storm goes on
        boolean canaryAccepted = sink.offer(exec(2500, "/tmp/canary", System.nanoTime()));
        boolean stormAfter = sink.offer(exec(2501, "/tmp/storm-after", System.nanoTime()));

        // then the storm is held to the queue's capacity and dropped beyond it, and the canary is queued
        assertThat(stormAccepted).isEqualTo(16);
        assertThat(canaryAccepted).isTrue();
        assertThat(stormAfter).isFalse();
        assertThat(count(PipelineMetrics.DROPPED, "stage", "attribute", "reason", "queue_full")).isEqualTo(100 - 16 + 1);
        // and attributed and classified in its turn (where the self-test watches it)
        release.countDown();
        waitUntil(() -> classified.contains("/tmp/canary"));
        assertThat(classified).hasSize(18);
    }

    @Test
    void classifyRunsOnTheAttributeThreadAndPolicyActReportOnTheEnrichThread() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        Map<String, String> threads = new java.util.concurrent.ConcurrentHashMap<>();
        DriftClassifier classifier = (event, container) -> {
            threads.put("classify", Thread.currentThread().getName());
            return classifier().classify(event, container);
        };
        PolicyEvaluator policy = facts -> {
            threads.put("policy", Thread.currentThread().getName());
            return alertAll().evaluate(facts);
        };
        pipeline = new DriftPipeline(new PipelineParts(attributor(), ProcessInspector.NONE, classifier, metadata, policy,
                assembler, alert -> {
                    threads.put("report", Thread.currentThread().getName());
                    return publisher.publish(alert);
                }), PipelineSettings.defaults(), registry, MonotonicClock.SYSTEM);
        pipeline.start();

        pipeline.sink().offer(exec(4321, "/tmp/x", System.nanoTime()));
        publisher.next(WAIT);

        assertThat(threads).containsExactlyInAnyOrderEntriesOf(Map.of("classify", "drift-stage-attribute",
                "policy", "drift-stage-enrich", "report", "drift-stage-enrich"));
    }

    @Test
    void lateMetadataIsParkedThenEnrichedWhenItArrives() throws Exception {
        start(classifier(), alertAll(), new PipelineSettings(16, 16, 16,
                List.of(Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofSeconds(3))));

        pipeline.sink().offer(exec(4321, "/tmp/early", System.nanoTime()));
        waitUntil(() -> gauge(PipelineMetrics.PARKED, null) == 1);
        assertThat(publisher.alerts).isEmpty();
        metadata.known.put(CONTAINER, metadata());

        Alert alert = publisher.next(WAIT);
        assertThat(alert.pod().name()).isEqualTo("web-7d9f");
        assertThat(alert.container().image()).isEqualTo("registry.example/nginx:1.27");
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "parked")).isEqualTo(1);
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "resolved")).isEqualTo(1);
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "gave_up")).isZero();
        assertThat(gauge(PipelineMetrics.PARKED, null)).isZero();
    }

    @Test
    void metadataThatNeverArrivesStillEmitsWithWhatIsKnownAfterTheLastRetry() throws Exception {
        start(classifier(), alertAll(), new PipelineSettings(16, 16, 16,
                List.of(Duration.ofMillis(20), Duration.ofMillis(60), Duration.ofMillis(120))));
        long offeredAt = System.nanoTime();

        pipeline.sink().offer(exec(4321, "/tmp/orphan", offeredAt));

        Alert alert = publisher.next(WAIT);
        assertThat(System.nanoTime() - offeredAt).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(120));
        assertThat(alert.pod()).isEqualTo(new Alert.Pod(null, null, POD_UID, Map.of()));
        assertThat(alert.container()).isEqualTo(new Alert.Container(CONTAINER.value(), null, "containerd", null, null));
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "gave_up")).isEqualTo(1);
    }

    @Test
    void metadataThatNeverArrivesFallsBackToTheLastResortAfterTheLastRetry() throws Exception {
        metadata.lastResort.put(CONTAINER, new WorkloadMetadata("api-0", "payments", POD_UID, Map.of(), "api", null, null));
        start(classifier(), alertAll(), new PipelineSettings(16, 16, 16, List.of(Duration.ofMillis(20))));

        pipeline.sink().offer(exec(4321, "/tmp/orphan", System.nanoTime()));

        Alert alert = publisher.next(WAIT);
        assertThat(alert.pod()).isEqualTo(new Alert.Pod("api-0", "payments", POD_UID, Map.of()));
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "gave_up")).isEqualTo(1);
    }

    @Test
    void aFullParkingLotLetsTheExecGoOnAtOnce() throws Exception {
        start(classifier(), alertAll(), new PipelineSettings(16, 16, 0, List.of(Duration.ofSeconds(30))));

        pipeline.sink().offer(exec(4321, "/tmp/no-room", System.nanoTime()));

        assertThat(publisher.next(WAIT).pod().name()).isNull();
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "parking_full")).isEqualTo(1);
    }

    @Test
    void drainingReleasesParkedExecsWithWhatIsKnown() throws Exception {
        start(classifier(), alertAll(), new PipelineSettings(16, 16, 16, List.of(Duration.ofMinutes(10))));
        pipeline.sink().offer(exec(4321, "/tmp/parked", System.nanoTime()));
        waitUntil(() -> gauge(PipelineMetrics.PARKED, null) == 1);

        boolean clean = pipeline.drainAndStop(WAIT);

        assertThat(clean).isTrue();
        assertThat(publisher.drained()).extracting(a -> a.drift().path()).containsExactly("/tmp/parked");
        assertThat(count(PipelineMetrics.LATE_METADATA, "outcome", "gave_up")).isEqualTo(1);
        pipeline = null;
    }

    @Test
    void stageAndExecToAlertLatenciesAreRecorded() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start();
        long execAt = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(5);

        pipeline.sink().offer(exec(4321, "/tmp/timed", execAt));
        publisher.next(WAIT);
        pipeline.drainAndStop(WAIT);
        pipeline = null;

        for (String stage : DriftPipeline.STAGE_NAMES) {
            FunctionTimer timer = registry.get(PipelineMetrics.STAGE_LATENCY).tag("stage", stage).functionTimer();
            assertThat(timer.count()).as(stage).isEqualTo(1);
            assertThat(timer.totalTime(TimeUnit.NANOSECONDS)).as(stage).isPositive();
        }
        Timer execToAlert = registry.get(PipelineMetrics.EXEC_TO_ALERT).timer();
        assertThat(execToAlert.count()).isEqualTo(1);
        assertThat(execToAlert.max(TimeUnit.NANOSECONDS)).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(5));
    }

    @Test
    void aFailingStageDropsTheItemCountsTheErrorAndGoesOn() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifier(), facts -> {
            if (facts.path().equals("/tmp/poison")) {
                throw new IllegalStateException("evaluator bug");
            }
            return new Verdict(Verdict.Decision.ALERT, "r", 1, false);
        }, PipelineSettings.defaults());

        pipeline.sink().offer(exec(4321, "/tmp/poison", System.nanoTime()));
        pipeline.sink().offer(exec(4322, "/tmp/fine", System.nanoTime()));

        assertThat(publisher.next(WAIT).drift().path()).isEqualTo("/tmp/fine");
        assertThat(count(PipelineMetrics.STAGE_ERRORS, "stage", "policy")).isEqualTo(1);
    }

    @Test
    void aStageKilledByAnErrorIsReportedAsNotRunning() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        start(classifier(), facts -> {
            throw new StackOverflowError("simulated");
        }, PipelineSettings.defaults());
        assertThat(pipeline.stoppedStages()).isEmpty();

        pipeline.sink().offer(exec(4321, "/tmp/x", System.nanoTime()));

        // policy runs on the enrich thread: the error kills that thread, and with it every stage it runs
        waitUntil(() -> pipeline.stoppedStages().equals(List.of("enrich", "policy", "act", "report")));
    }

    @Test
    void aRejectedAlertIsCounted() throws Exception {
        metadata.known.put(CONTAINER, metadata());
        CountDownLatch attempted = new CountDownLatch(1);
        pipeline = new DriftPipeline(new PipelineParts(attributor(), ProcessInspector.NONE, classifier(), metadata,
                alertAll(), assembler, alert -> {
                    attempted.countDown();
                    return false;
                }), PipelineSettings.defaults(), registry, MonotonicClock.SYSTEM);
        pipeline.start();

        pipeline.sink().offer(exec(4321, "/tmp/rejected", System.nanoTime()));

        assertThat(attempted.await(5, TimeUnit.SECONDS)).isTrue();
        pipeline.drainAndStop(WAIT);
        pipeline = null;
        assertThat(count(PipelineMetrics.PUBLISHED, "outcome", "rejected")).isEqualTo(1);
        assertThat(count(PipelineMetrics.PUBLISHED, "outcome", "accepted")).isZero();
    }

    private double verdicts(String kind, String decision) {
        return count(PipelineMetrics.VERDICTS, "kind", kind, "action", decision);
    }

    private double count(String name, String... tags) {
        return registry.get(name).tags(tags).counter().count();
    }

    private double gauge(String name, String stage) {
        return stage == null ? registry.get(name).gauge().value() : registry.get(name).tag("stage", stage).gauge().value();
    }

    private static void waitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + WAIT);
            }
            Thread.sleep(5);
        }
    }
}
