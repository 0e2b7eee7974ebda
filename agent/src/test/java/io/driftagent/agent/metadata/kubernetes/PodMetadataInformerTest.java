package io.driftagent.agent.metadata.kubernetes;

import static io.driftagent.agent.metadata.kubernetes.TestPods.hexId;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PodMetadataInformerTest {
    private static final String NODE = "node-a";
    private static final Duration GRACE = Duration.ofMinutes(5);

    private CrudApiServer api;
    private KubernetesMockServer server;
    private KubernetesClient client;
    private MutableClock clock;
    private PodMetadataInformer informer;

    @BeforeEach
    void startServer() {
        api = CrudApiServer.started();
        server = api.server();
        client = server.createClient();
        clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
    }

    @AfterEach
    void stopAll() {
        if (informer != null) {
            informer.close();
        }
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException slowClose) {
            // the mock's vert.x server sometimes exceeds its own close timeout on a loaded machine: infrastructure,
            // not the behaviour under test (the port is random per test, so nothing leaks into the next one)
            System.err.println("mock API server close: " + slowClose.getMessage());
        }
    }

    private PodMetadataInformer startedInformer() throws InterruptedException {
        informer = new PodMetadataInformer(client, NODE, GRACE, clock);
        informer.start();
        assertThat(informer.awaitSynced(Duration.ofSeconds(20))).as("first sync").isTrue();
        return informer;
    }

    private Pod create(Pod pod) {
        return client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
    }

    @Test
    void initRegularAndEphemeralContainersOfThisNodesPodsAreFoundByContainerId() throws Exception {
        String uid = create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')))
                .getMetadata().getUid();
        startedInformer();

        WorkloadMetadata main = informer.lookup(new ContainerId(hexId('2'))).orElseThrow();
        assertThat(main).isEqualTo(new WorkloadMetadata("web-1", "shop", uid,
                Map.of("app", "web", "tier", "front"), "nginx", "nginx:1.25", TestPods.NGINX_DIGEST));
        assertThat(informer.lookup(new ContainerId(hexId('1')))).get()
                .extracting(WorkloadMetadata::containerName, WorkloadMetadata::imageDigest)
                .containsExactly("setup", TestPods.BUSYBOX_DIGEST);
        assertThat(informer.lookup(new ContainerId(hexId('3')))).get()
                .extracting(WorkloadMetadata::containerName, WorkloadMetadata::image)
                .containsExactly("debugger", "debug/tools:2");
        assertThat(informer.lookupPod(uid)).get().extracting(WorkloadMetadata::podName).isEqualTo("web-1");
        assertThat(informer.state()).isEqualTo(InformerState.SYNCED);
        assertThat(informer.isSynced()).isTrue();
    }

    @Test
    void podsOnAnotherNodeAreIgnored() throws Exception {
        create(TestPods.webPod("elsewhere", "uid-x", "node-b", hexId('4'), hexId('5'), hexId('6')));
        create(TestPods.webPod("here", "uid-h", NODE, hexId('7'), hexId('8'), hexId('9')));
        startedInformer();

        Eventually.within(Duration.ofSeconds(10), "informer.lookup(new ContainerId(hexId('8'))).isPresent()", () -> informer.lookup(new ContainerId(hexId('8'))).isPresent());
        assertThat(informer.lookup(new ContainerId(hexId('5')))).isEmpty();
        assertThat(informer.indexedContainers()).isEqualTo(3);
        assertThat(api.fieldSelectorsSeen()).isNotEmpty().allMatch("spec.nodeName=node-a"::equals);
    }

    @Test
    void aDeletedPodIsStillAttributedWithinTheGracePeriodAndForgottenAfter() throws Exception {
        String uid = create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')))
                .getMetadata().getUid();
        startedInformer();
        ContainerId main = new ContainerId(hexId('2'));

        client.pods().inNamespace("shop").withName("web-1").withGracePeriod(0).delete();
        Eventually.within(Duration.ofSeconds(10), "informer.indexedContainers() == 0", () -> informer.indexedContainers() == 0);

        clock.advance(GRACE.minusSeconds(1));
        assertThat(informer.lookup(main)).get().extracting(WorkloadMetadata::podName).isEqualTo("web-1");
        assertThat(informer.lookupPod(uid)).isPresent();

        clock.advance(Duration.ofSeconds(1));
        assertThat(informer.lookup(main)).isEmpty();
        assertThat(informer.lookupPod(uid)).isEmpty();
    }

    @Test
    void aLabelUpdateIsReflectedInLookups() throws Exception {
        create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')));
        startedInformer();
        ContainerId main = new ContainerId(hexId('2'));

        client.pods().inNamespace("shop").withName("web-1")
                .edit(pod -> new PodBuilder(pod).editMetadata().addToLabels("version", "v2").endMetadata().build());

        Eventually.assertWithin(Duration.ofSeconds(10), () -> assertThat(informer.lookup(main)).get()
                .extracting(WorkloadMetadata::podLabels)
                .isEqualTo(Map.of("app", "web", "tier", "front", "version", "v2")));
    }

    @Test
    void aReplacedContainerInstanceIsKeptForTheGracePeriod() throws Exception {
        create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')));
        startedInformer();

        client.pods().inNamespace("shop").withName("web-1").edit(pod -> new PodBuilder(pod).editStatus()
                .editFirstContainerStatus().withContainerID("containerd://" + hexId('d')).withRestartCount(1)
                .endContainerStatus().endStatus().build());

        // three live containers again: the replaced instance has left the live index
        Eventually.within(Duration.ofSeconds(10), "new instance indexed, old one departed",
                () -> informer.lookup(new ContainerId(hexId('d'))).isPresent() && informer.indexedContainers() == 3);
        assertThat(informer.lookup(new ContainerId(hexId('2')))).isPresent();
        clock.advance(GRACE);
        assertThat(informer.lookup(new ContainerId(hexId('2')))).isEmpty();
        assertThat(informer.lookup(new ContainerId(hexId('d')))).isPresent();
    }

    @Test
    void aParkedLookupCompletesWhenThePodStatusCatchesUp() throws Exception {
        startedInformer();
        ContainerId late = new ContainerId(hexId('e'));

        CompletableFuture<Optional<WorkloadMetadata>> answer = informer.whenKnown(late, Duration.ofSeconds(20));
        assertThat(answer).isNotDone();
        assertThat(informer.parkedCount()).isEqualTo(1);
        create(TestPods.webPod("late", "uid-late", NODE, hexId('f'), hexId('e'), hexId('0')));

        assertThat(answer.get(10, TimeUnit.SECONDS)).get().extracting(WorkloadMetadata::podName).isEqualTo("late");
        assertThat(informer.parkedCount()).isZero();
    }

    @Test
    void aParkedLookupForAnUnknownContainerCompletesEmptyAfterItsMaximumWait() throws Exception {
        startedInformer();

        CompletableFuture<Optional<WorkloadMetadata>> answer =
                informer.whenKnown(new ContainerId(hexId('a')), Duration.ofMillis(200));

        assertThat(answer.get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(informer.parkedCount()).isZero();
    }

    @Test
    void parkingBeyondTheBoundAnswersAtOnceAndCounts() throws Exception {
        informer = new PodMetadataInformer(client, NODE, GRACE, clock, 1);
        informer.start();
        informer.awaitSynced(Duration.ofSeconds(20));

        CompletableFuture<Optional<WorkloadMetadata>> first =
                informer.whenKnown(new ContainerId(hexId('a')), Duration.ofSeconds(30));
        CompletableFuture<Optional<WorkloadMetadata>> second =
                informer.whenKnown(new ContainerId(hexId('b')), Duration.ofSeconds(30));

        assertThat(first).isNotDone();
        assertThat(second).isCompletedWithValue(Optional.empty());
        assertThat(informer.parkedOverflows()).isEqualTo(1);
    }

    @Test
    void anApiServerOutageKeepsTheCacheAndTheInformerFollowsTheServerAgainWhenItIsBack() throws Exception {
        create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')));
        startedInformer();
        int port = server.getPort();

        server.destroy();

        Eventually.within(Duration.ofSeconds(30), "disconnected", () -> informer.state() == InformerState.DISCONNECTED);
        assertThat(informer.isSynced()).isFalse();
        assertThat(informer.lookup(new ContainerId(hexId('2')))).get()
                .extracting(WorkloadMetadata::podName).isEqualTo("web-1");

        api = CrudApiServer.startedOn(port);
        server = api.server();
        create(TestPods.webPod("web-2", "uid-2", NODE, hexId('4'), hexId('5'), hexId('6')));

        Eventually.within(Duration.ofSeconds(90), "synced again with the new pod",
                () -> informer.isSynced() && informer.lookup(new ContainerId(hexId('5'))).isPresent());
        assertThat(informer.lookup(new ContainerId(hexId('2')))).isPresent();
    }

    @Test
    void anInformerStartedWhileTheApiServerIsDownSyncsOnceItIsUp() throws Exception {
        int port = server.getPort();
        server.destroy();

        informer = new PodMetadataInformer(client, NODE, GRACE, clock);
        informer.start();
        assertThat(informer.awaitSynced(Duration.ofSeconds(2))).isFalse();
        assertThat(informer.state()).isEqualTo(InformerState.STARTING);
        Eventually.within(Duration.ofSeconds(30), "a list failure recorded", () -> informer.lastSyncError().isPresent());
        assertThat(informer.lastSyncError().orElseThrow().message()).contains("ConnectException");

        api = CrudApiServer.startedOn(port);
        server = api.server();
        create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')));

        assertThat(informer.awaitSynced(Duration.ofSeconds(90))).isTrue();
        Eventually.within(Duration.ofSeconds(10), "pod indexed",
                () -> informer.lookup(new ContainerId(hexId('2'))).isPresent());
        assertThat(informer.state()).isEqualTo(InformerState.SYNCED);
    }

    @Test
    void theStateAndIndexSizeAreGauges() throws Exception {
        create(TestPods.webPod("web-1", "uid-1", NODE, hexId('1'), hexId('2'), hexId('3')));
        startedInformer();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        informer.registerMetrics(registry);

        assertThat(registry.get("drift.informer.state").gauge().value()).isEqualTo(InformerState.SYNCED.code());
        assertThat(registry.get("drift.informer.containers").gauge().value()).isEqualTo(3.0);
        informer.close();
        assertThat(registry.get("drift.informer.state").gauge().value()).isEqualTo(InformerState.STOPPED.code());
    }

    @Test
    void aClosedInformerReportsStopped() throws Exception {
        startedInformer();
        informer.close();
        assertThat(informer.state()).isEqualTo(InformerState.STOPPED);
    }
}
