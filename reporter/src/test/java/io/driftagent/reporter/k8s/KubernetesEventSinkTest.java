package io.driftagent.reporter.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.alert.SampleAlerts;
import io.driftagent.reporter.dedup.MutableClock;
import io.driftagent.reporter.dispatch.AlertDispatcher;
import io.driftagent.reporter.dispatch.RecordingSink;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KubernetesEventSinkTest {

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final MutableClock clock = new MutableClock(SampleAlerts.TIME);
    private KubernetesMockServer server;
    private KubernetesClient client;

    @BeforeEach
    void startApiServer() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        client = new KubernetesClientBuilder().withConfig(
                KubernetesEventSink.fastFailingConfig(server.createClient().getConfiguration(), Duration.ofSeconds(5)))
                .build();
    }

    @AfterEach
    void stopApiServer() {
        client.close();
        server.destroy();
    }

    private KubernetesEventSink sink(KubernetesEventSettings settings) {
        return new KubernetesEventSink(client, settings, registry, clock);
    }

    private List<Event> events(String namespace) {
        return client.v1().events().inNamespace(namespace).list().getItems();
    }

    private double result(String result) {
        return registry.get("drift.k8s.events").tag("result", result).counter().count();
    }

    @Test
    void driftAlertBecomesAWarningEventOnThePod() {
        // given
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1"));
        Alert alert = SampleAlerts.full();

        // when
        sink.publish(alert);

        // then
        List<Event> events = events("shop");
        assertThat(events).hasSize(1);
        Event event = events.get(0);
        assertThat(event.getInvolvedObject().getKind()).isEqualTo("Pod");
        assertThat(event.getInvolvedObject().getName()).isEqualTo("web-7d9f");
        assertThat(event.getInvolvedObject().getNamespace()).isEqualTo("shop");
        assertThat(event.getInvolvedObject().getUid()).isEqualTo("5b7d3c1e-1111-2222-3333-444455556666");
        assertThat(event.getType()).isEqualTo("Warning");
        assertThat(event.getReason()).isEqualTo("BinaryDrift");
        assertThat(event.getMessage()).contains("MODIFIED", "/usr/bin/curl", "container app", "rule default-alert");
        assertThat(event.getCount()).isEqualTo(1);
        assertThat(event.getFirstTimestamp()).isEqualTo("2026-11-27T18:22:08Z");
        assertThat(event.getSource().getHost()).isEqualTo("node-1");
        assertThat(event.getMetadata().getName()).startsWith("web-7d9f.");
    }

    @Test
    void repeatsWithinTheWindowPatchTheCountOfOneEventAndAfterItANewEventStarts() {
        // given
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1").withDedupWindow(Duration.ofMinutes(10)));
        Alert alert = SampleAlerts.full();

        // when the same drift happens 3 times (once as a summary of 2) within the window
        sink.publish(alert);
        clock.advance(Duration.ofSeconds(30));
        sink.publish(alert, 2);

        // then
        List<Event> events = events("shop");
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getCount()).isEqualTo(3);
        assertThat(events.get(0).getLastTimestamp()).isEqualTo("2026-11-27T18:22:38Z");
        assertThat(result("created")).isEqualTo(1);
        assertThat(result("patched")).isEqualTo(1);

        // and after the window a new Event is created
        clock.advance(Duration.ofMinutes(10));
        sink.publish(alert);
        assertThat(events("shop")).hasSize(2);
    }

    @Test
    void eventDeletedByTheApiServerIsRecreatedWithTheAccumulatedCount() {
        // given an Event that the API server has since dropped (event TTL)
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1"));
        Alert alert = SampleAlerts.full();
        sink.publish(alert);
        client.v1().events().inNamespace("shop").delete();
        assertThat(events("shop")).isEmpty();

        // when the drift repeats within the window
        sink.publish(alert);

        // then
        assertThat(events("shop")).singleElement().extracting(Event::getCount).isEqualTo(2);
        assertThat(result("recreated")).isEqualTo(1);
    }

    @Test
    void differentPathOrBlockedActionIsADifferentEvent() {
        // given
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1"));
        Alert alert = SampleAlerts.full();
        Alert blocked = new Alert(1, "b", alert.time(), Alert.AlertType.BinaryDriftBlocked, alert.severity(), "block",
                alert.drift(), alert.process(), alert.container(), alert.pod(), alert.node(), alert.cluster(),
                alert.cloud(), alert.rule());

        // when
        sink.publish(alert);
        sink.publish(SampleAlerts.of(alert.container().id(), "/tmp/other", "ADDED"));
        sink.publish(blocked);

        // then
        assertThat(events("shop")).extracting(Event::getReason)
                .containsExactlyInAnyOrder("BinaryDrift", "BinaryDrift", "BinaryDriftBlocked");
    }

    @Test
    void rateLimitDropsCreatesAndCountsThem() {
        // given a burst of 2 and almost no refill
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1").withRate(0.001, 2));

        // when 5 different drifts arrive at once
        for (int i = 0; i < 5; i++) {
            sink.publish(SampleAlerts.of("c1", "/tmp/x" + i, "ADDED"));
        }

        // then
        assertThat(events("shop")).hasSize(2);
        assertThat(result("rate_limited")).isEqualTo(3);

        // and once tokens are back, new drifts get through again
        clock.advance(Duration.ofSeconds(1000));
        sink.publish(SampleAlerts.of("c1", "/tmp/later", "ADDED"));
        assertThat(events("shop")).hasSize(3);
    }

    @Test
    void rateLimitedPatchKeepsTheCountForTheNextPatch() {
        // given one token per 10 s, burst 1
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1").withRate(0.1, 1));
        Alert alert = SampleAlerts.full();
        sink.publish(alert);

        // when two repeats come before a token is back, then one after
        sink.publish(alert);
        sink.publish(alert);
        clock.advance(Duration.ofSeconds(10));
        sink.publish(alert);

        // then
        assertThat(result("rate_limited")).isEqualTo(2);
        assertThat(events("shop")).singleElement().extracting(Event::getCount).isEqualTo(4);
    }

    @Test
    void alertWithoutAPodIsSkipped() {
        // given
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1"));

        // when
        sink.publish(SampleAlerts.minimal("/tmp/x"));

        // then
        assertThat(result("no_pod")).isEqualTo(1);
        assertThat(client.v1().events().inAnyNamespace().list().getItems()).isEmpty();
    }

    @Test
    void apiServerDownMakesThePublishFailFast() {
        // given
        KubernetesEventSink sink = sink(KubernetesEventSettings.of("node-1"));
        server.destroy();

        // when / then
        long start = System.nanoTime();
        assertThatThrownBy(() -> sink.publish(SampleAlerts.full())).isInstanceOf(KubernetesClientException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
    }

    @Test
    void unresponsiveApiServerIsIsolatedByTheDispatcher() throws Exception {
        // given an API server that accepts connections and never answers
        try (ServerSocket blackhole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(blackhole.accept());
                    }
                } catch (Exception closed) {
                    // test over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Config config = KubernetesEventSink.fastFailingConfig(new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + blackhole.getLocalPort()).withNamespace("default")
                    .build(), Duration.ofMillis(500));
            try (KubernetesClient hungClient = new KubernetesClientBuilder().withConfig(config).build()) {
                KubernetesEventSink events = new KubernetesEventSink(hungClient, KubernetesEventSettings.of("node-1"),
                        registry, Clock.systemUTC());
                RecordingSink other = new RecordingSink("other");
                AlertDispatcher dispatcher = new AlertDispatcher(List.of(events, other), 64, Duration.ofSeconds(2),
                        registry, Clock.systemUTC());

                // when
                long start = System.nanoTime();
                for (int i = 0; i < 5; i++) {
                    dispatcher.submit(SampleAlerts.of("c1", "/tmp/x" + i, "ADDED"));
                }

                // then the other sink has everything at once (coupled, it would take 5 x 500 ms); the events sink fails
                // each call after its timeout
                assertThat(other.awaitCount(5, 1_000)).isTrue();
                assertThat(TimeUnit.NANOSECONDS.toMillis(other.received().get(4).atNanos() - start)).isLessThan(1_000);
                dispatcher.close(Duration.ofSeconds(10));
                assertThat(registry.get("drift.sink.alerts").tag("sink", "kubernetes-events").tag("outcome", "failed")
                        .counter().count()).isEqualTo(5);
            } finally {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }
}
