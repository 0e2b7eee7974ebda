package io.driftagent.reporter.k8s;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.dispatch.AlertSink;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports drift as core/v1 {@code Event}s on the pod ({@code involvedObject} = the Pod by name, namespace and uid),
 * type Warning, reason {@code BinaryDrift} or {@code BinaryDriftBlocked}.
 *
 * <p>Deduplication: the same (pod, container, path, kind, reason) within {@code dedupWindow} of the Event's creation
 * is a JSON merge patch of the existing Event's {@code count} and {@code lastTimestamp}, not a new Event (the
 * kubelet's own series semantics). API calls are rate limited by a token bucket; a rate-limited create is dropped
 * (counted), a rate-limited patch is skipped but its occurrences are kept, so the next patch carries the full count.
 *
 * <p>RBAC: only {@code create} and {@code patch} on {@code events} (core group) in the pods' namespaces.
 * Alerts without a pod (standalone mode) are skipped (counted). Failures are thrown, so the dispatcher counts them;
 * give this sink a client that fails fast ({@link #fastFailingConfig}).
 *
 * <p>Metrics: {@code drift.k8s.events{result=created|patched|recreated|rate_limited|no_pod}}.
 */
public final class KubernetesEventSink implements AlertSink {

    private static final Logger log = LoggerFactory.getLogger(KubernetesEventSink.class);
    private static final int MAX_MESSAGE = 1024;
    private static final int MAX_NAME_PREFIX = 200;

    private record Key(String podUid, String namespace, String pod, String container, String path, String kind,
                       String reason) {
    }

    private static final class Tracked {
        final String namespace;
        final String eventName;
        final long expiresAtMillis;
        int count;
        boolean dirty;

        Tracked(String namespace, String eventName, long expiresAtMillis, int count) {
            this.namespace = namespace;
            this.eventName = eventName;
            this.expiresAtMillis = expiresAtMillis;
            this.count = count;
        }
    }

    private final KubernetesClient client;
    private final KubernetesEventSettings settings;
    private final Clock clock;
    private final TokenBucket rateLimit;
    // insertion order == creation order == expiry order
    private final LinkedHashMap<Key, Tracked> tracked = new LinkedHashMap<>();
    private final Counter created;
    private final Counter patched;
    private final Counter recreated;
    private final Counter rateLimited;
    private final Counter noPod;

    public KubernetesEventSink(KubernetesClient client, KubernetesEventSettings settings, MeterRegistry registry,
                               Clock clock) {
        this.client = Objects.requireNonNull(client, "client");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rateLimit = new TokenBucket(settings.eventsPerSecond(), settings.burst(), clock);
        this.created = result(registry, "created");
        this.patched = result(registry, "patched");
        this.recreated = result(registry, "recreated");
        this.rateLimited = result(registry, "rate_limited");
        this.noPod = result(registry, "no_pod");
    }

    /**
     * A client configuration for this sink derived from the agent's: short timeouts and no retries, so an unreachable
     * API server makes a publish fail within {@code timeout} instead of stalling this sink's lane.
     */
    public static Config fastFailingConfig(Config base, Duration timeout) {
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        return new ConfigBuilder(base).withConnectionTimeout(millis).withRequestTimeout(millis)
                .withRequestRetryBackoffLimit(0).build();
    }

    private static Counter result(MeterRegistry registry, String result) {
        return Counter.builder("drift.k8s.events").description("Kubernetes Event API calls and skips, by result")
                .tag("result", result).register(registry);
    }

    @Override
    public String name() {
        return "kubernetes-events";
    }

    @Override
    public void publish(Alert alert) {
        publish(alert, 1);
    }

    @Override
    public synchronized void publish(Alert alert, int count) {
        Alert.Pod pod = alert.pod();
        if (pod == null || pod.name() == null || pod.namespace() == null) {
            noPod.increment();
            return;
        }
        long now = clock.millis();
        expire(now);
        Key key = key(alert, pod);
        Tracked existing = tracked.get(key);
        if (existing == null) {
            create(alert, pod, key, count, now);
            return;
        }
        existing.count += count;
        existing.dirty = true;
        if (!rateLimit.tryAcquire()) {
            rateLimited.increment();
            return;
        }
        patch(existing, alert, pod, key, now);
    }

    private void create(Alert alert, Alert.Pod pod, Key key, int count, long now) {
        if (!rateLimit.tryAcquire()) {
            rateLimited.increment();
            log.debug("Kubernetes Event for alert {} dropped by the rate limit", alert.id());
            return;
        }
        String name = eventName(pod.name());
        String timestamp = timestamp(now);
        Event event = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(pod.namespace())
                .addToLabels("app.kubernetes.io/managed-by", settings.component()).endMetadata()
                .withNewInvolvedObject().withApiVersion("v1").withKind("Pod").withName(pod.name())
                .withNamespace(pod.namespace()).withUid(pod.uid()).endInvolvedObject()
                .withType("Warning")
                .withReason(alert.alertType().name())
                .withMessage(message(alert))
                .withAction(alert.action())
                .withCount(count)
                .withFirstTimestamp(timestamp)
                .withLastTimestamp(timestamp)
                .withNewSource().withComponent(settings.component()).withHost(settings.node()).endSource()
                .withReportingComponent(settings.component())
                .withReportingInstance(settings.node())
                .build();
        client.v1().events().inNamespace(pod.namespace()).resource(event).create();
        tracked.put(key, new Tracked(pod.namespace(), name, now + settings.dedupWindow().toMillis(), count));
        created.increment();
        evictOverflow();
    }

    private void patch(Tracked event, Alert alert, Alert.Pod pod, Key key, long now) {
        String body = "{\"count\":" + event.count + ",\"lastTimestamp\":\"" + timestamp(now) + "\"}";
        try {
            client.v1().events().inNamespace(event.namespace).withName(event.eventName)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), body);
            event.dirty = false;
            patched.increment();
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                throw e;
            }
            // the Event expired (the API server's event TTL) or was deleted: start a new one
            tracked.remove(key);
            recreated.increment();
            create(alert, pod, key, event.count, now);
        }
    }

    private void expire(long now) {
        Iterator<Tracked> it = tracked.values().iterator();
        while (it.hasNext()) {
            Tracked t = it.next();
            if (t.expiresAtMillis > now) {
                return;
            }
            if (t.dirty) {
                log.debug("Kubernetes Event {}/{} expired with an unpatched count {}", t.namespace, t.eventName,
                        t.count);
            }
            it.remove();
        }
    }

    private void evictOverflow() {
        Iterator<Tracked> it = tracked.values().iterator();
        while (tracked.size() > settings.maxTracked() && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** Events currently tracked for deduplication. */
    public synchronized int tracked() {
        return tracked.size();
    }

    private static Key key(Alert alert, Alert.Pod pod) {
        Alert.Container c = alert.container();
        String container = c == null ? "" : c.id() != null ? c.id() : Objects.toString(c.name(), "");
        return new Key(Objects.toString(pod.uid(), ""), pod.namespace(), pod.name(), container, alert.drift().path(),
                alert.drift().kind(), alert.alertType().name());
    }

    private static String eventName(String podName) {
        String prefix = podName.length() > MAX_NAME_PREFIX ? podName.substring(0, MAX_NAME_PREFIX) : podName;
        return prefix + "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }

    private static String timestamp(long millis) {
        return DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.SECONDS));
    }

    static String message(Alert alert) {
        StringBuilder m = new StringBuilder(160);
        m.append(alert.alertType() == Alert.AlertType.BinaryDriftBlocked ? "Blocked drifted binary " : "Drifted binary ");
        m.append(alert.drift().kind()).append(' ').append(alert.drift().path());
        Alert.Container c = alert.container();
        if (c != null && c.name() != null) {
            m.append(" in container ").append(c.name());
        }
        m.append(" (pid ").append(alert.process().pid());
        if (alert.rule() != null && alert.rule().name() != null) {
            m.append(", rule ").append(alert.rule().name());
        }
        m.append(", action ").append(alert.action()).append(')');
        return printable(m);
    }

    /** Attacker-controlled names must not forge extra lines in {@code kubectl describe}. */
    private static String printable(CharSequence s) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_MESSAGE));
        for (int i = 0; i < s.length() && out.length() < MAX_MESSAGE; i++) {
            char ch = s.charAt(i);
            out.append(Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029' || Character.isSurrogate(ch)
                    ? '?' : ch);
        }
        return out.toString();
    }
}
