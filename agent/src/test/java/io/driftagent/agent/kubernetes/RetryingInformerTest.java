package io.driftagent.agent.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.fixture.MutableClock;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class RetryingInformerTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<InformerFailure> failures = new CopyOnWriteArrayList<>();
    private final AtomicInteger listings = new AtomicInteger();
    private final List<String> added = new CopyOnWriteArrayList<>();

    private final RetryingInformer.Listener listener = new RetryingInformer.Listener() {
        @Override
        public void failed(InformerFailure failure, Throwable thrown) {
            failures.add(failure);
        }

        @Override
        public void listed() {
            listings.incrementAndGet();
        }
    };

    private final ResourceEventHandler<ConfigMap> events = new ResourceEventHandler<>() {
        @Override
        public void onAdd(ConfigMap map) {
            added.add(map.getMetadata().getName());
        }

        @Override
        public void onUpdate(ConfigMap previous, ConfigMap map) {
        }

        @Override
        public void onDelete(ConfigMap map, boolean finalStateUnknown) {
        }
    };

    @Test
    void withTheApiServerUnreachableEveryFailureIsKeptAndReportedAndTheInformerRetriesUntilClosed() throws Exception {
        // given a client whose API server does not answer (nothing listens on the port), retrying every 100 ms
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try (KubernetesClient unreachable = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
                .withMasterUrl("https://127.0.0.1:" + port).withTrustCerts(true).withRequestRetryBackoffLimit(0)
                .withWatchReconnectInterval(100).build()).build()) {
            RetryingInformer<ConfigMap> informer = new RetryingInformer<>(
                    () -> unreachable.configMaps().inNamespace("default").runnableInformer(0), events, listener, clock);

            // when it starts
            informer.start();
            informer.start(); // a second start does nothing

            // then each failed attempt is reported with the clock's time and kept, and it goes on trying
            eventually("two failures reported", () -> failures.size() >= 2);
            assertThat(informer.lastFailure()).get().satisfies(f -> {
                assertThat(f.at()).isEqualTo(clock.instant());
                assertThat(f.message()).contains("Exception");
            });
            assertThat(informer.hasListed()).isFalse();
            assertThat(informer.isWatching()).isFalse();
            assertThat(listings).hasValue(0);

            // and once closed it reports nothing more and cannot start again
            assertThat(informer.close()).isTrue();
            assertThat(informer.close()).as("the second close").isFalse();
            int reported = failures.size();
            TimeUnit.MILLISECONDS.sleep(500);
            assertThat(failures).hasSize(reported);
            assertThat(informer.isClosed()).isTrue();
            assertThatThrownBy(informer::start).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aReachableServerIsListedOnceThenWatchedAndItsResourcesReachTheHandler() throws Exception {
        // given a CRUD API server holding one config map
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), true);
        server.init();
        try (KubernetesClient client = server.createClient()) {
            client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
                    .withName("first").endMetadata().build()).create();
            RetryingInformer<ConfigMap> informer = new RetryingInformer<>(
                    () -> client.configMaps().inNamespace("default").runnableInformer(0), events, listener, clock);

            // when it starts
            informer.start();

            // then it lists once, watches, and hands on what it lists and what comes later
            eventually("listed and watching", () -> informer.hasListed() && informer.isWatching());
            assertThat(listings).hasValue(1);
            assertThat(informer.hasSynced()).isTrue();
            assertThat(informer.isStarted()).isTrue();
            client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
                    .withName("second").endMetadata().build()).create();
            eventually("the new one handed on", () -> added.contains("second"));
            assertThat(added).startsWith("first");
            assertThat(failures).isEmpty();
            assertThat(informer.lastFailure()).isEmpty();

            informer.close();
            assertThat(informer.isWatching()).isFalse();
            assertThat(informer.isStarted()).isFalse();
        } finally {
            server.destroy();
        }
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }
}
