package io.driftagent.agent.assembly;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.reporter.dedup.AlertDeduplicator;
import io.driftagent.reporter.dispatch.AlertDispatcher;
import io.driftagent.reporter.dispatch.AlertSink;
import io.driftagent.reporter.json.JsonLinesSink;
import io.driftagent.reporter.k8s.KubernetesEventSettings;
import io.driftagent.reporter.k8s.KubernetesEventSink;
import io.driftagent.reporter.metrics.DriftMetrics;
import io.driftagent.reporter.metrics.MetricsAlertSink;
import io.driftagent.reporter.webhook.BodyTemplate;
import io.driftagent.reporter.webhook.WebhookHeaders;
import io.driftagent.reporter.webhook.WebhookSettings;
import io.driftagent.reporter.webhook.WebhookSink;
import io.driftagent.reporter.webhook.WebhookTls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Builds the reporter side: the dispatcher and its sinks (JSON lines, metrics, Kubernetes Events, webhook). */
final class ReportingAssembly {

    /** A Kubernetes API call by the Events sink gives up after this; the dispatcher's sink deadline is longer. */
    private static final Duration EVENTS_API_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration SINK_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_DEDUP_KEYS = 10_000;

    private ReportingAssembly() {
    }

    static AlertDispatcher dispatcher(AgentConfig config, DriftMetrics metrics, KubernetesClient client, Clock clock)
            throws AssemblyException {
        List<AlertSink> sinks = new ArrayList<>();
        sinks.add(jsonSink(config));
        // the pipeline times exec-to-alert on the monotonic clock itself; this sink only counts
        sinks.add(MetricsAlertSink.countingOnly(metrics));
        if (client != null && config.kubernetesEvents()) {
            KubernetesClient eventsClient = new KubernetesClientBuilder()
                    .withConfig(KubernetesEventSink.fastFailingConfig(client.getConfiguration(), EVENTS_API_TIMEOUT))
                    .build();
            sinks.add(new KubernetesEventSink(eventsClient,
                    KubernetesEventSettings.of(config.nodeName()).withDedupWindow(dedupOrDefault(config)),
                    metrics.registry(), clock));
        }
        if (config.webhook() != null) {
            sinks.add(new WebhookSink("webhook", webhookSettings(config.webhook()), metrics.registry(), clock));
        }
        AlertDispatcher.Builder builder = AlertDispatcher.builder()
                .sinks(sinks)
                .capacity(config.queues().alerts())
                .sinkTimeout(SINK_TIMEOUT)
                .registry(metrics.registry())
                .clock(clock);
        if (!config.dedupWindow().isZero()) {
            builder.deduplicator(new AlertDeduplicator(config.dedupWindow(), MAX_DEDUP_KEYS, clock, metrics.registry()));
        }
        return builder.build();
    }

    private static Duration dedupOrDefault(AgentConfig config) {
        return config.dedupWindow().isZero() ? Duration.ofMinutes(1) : config.dedupWindow();
    }

    private static AlertSink jsonSink(AgentConfig config) throws AssemblyException {
        if (config.alertsToStdout()) {
            return JsonLinesSink.stdout(config.alertsFormat());
        }
        Path file = Path.of(config.alertsTarget());
        try {
            return JsonLinesSink.appendingTo(file, config.alertsFormat());
        } catch (IOException e) {
            throw new AssemblyException("cannot open the alerts file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Package-private for tests: the settings the webhook sink gets from the configuration. */
    static WebhookSettings webhookSettings(AgentConfig.Webhook webhook) throws AssemblyException {
        WebhookSettings settings = WebhookSettings.of(webhook.url()).withTimeouts(webhook.timeout(), webhook.timeout());
        if (webhook.secretFile() != null) {
            try {
                byte[] secret = Files.readAllBytes(webhook.secretFile());
                settings = settings.withHmacSecret(trimTrailingNewline(secret));
            } catch (IOException e) {
                throw new AssemblyException("cannot read the webhook secret " + webhook.secretFile() + ": " + e.getMessage(), e);
            }
        }
        settings = settings.withBody(webhook.bodyTemplate() == null ? webhook.format().newEncoder()
                : BodyTemplate.parse(webhook.bodyTemplate()));
        if (!webhook.headers().isEmpty()) {
            try {
                settings = settings.withHeaders(WebhookHeaders.load(webhook.headers()));
            } catch (IOException | IllegalArgumentException e) {
                // the message names the header or the file, never a value
                throw new AssemblyException("webhook.headers: " + e.getMessage(), e);
            }
        }
        if (webhook.caFile() != null) {
            try {
                settings = settings.withSslContext(WebhookTls.trustingCaFile(webhook.caFile()));
            } catch (IOException | GeneralSecurityException e) {
                throw new AssemblyException("webhook.caFile: cannot use " + webhook.caFile() + " as a PEM CA bundle: "
                        + e.getMessage(), e);
            }
        }
        return settings;
    }

    /** A Secret mounted from {@code kubectl create secret --from-file} often ends in a newline the sender never meant. */
    private static byte[] trimTrailingNewline(byte[] secret) {
        int end = secret.length;
        while (end > 0 && (secret[end - 1] == '\n' || secret[end - 1] == '\r')) {
            end--;
        }
        return java.util.Arrays.copyOf(secret, end);
    }
}
