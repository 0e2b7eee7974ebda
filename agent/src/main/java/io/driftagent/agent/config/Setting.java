package io.driftagent.agent.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every configuration setting: its dotted key (as nested keys in the YAML file) and its environment variable,
 * derived from the key ({@code http.port} -> {@code DRIFT_HTTP_PORT}, {@code webhook.secretFile} ->
 * {@code DRIFT_WEBHOOK_SECRET_FILE}). See {@code docs/configuration.md}.
 */
public enum Setting {
    NODE_NAME("node.name"),
    CLUSTER_NAME("cluster.name"),
    CLOUD_PROVIDER("cloud.provider"),
    CLOUD_ACCOUNT("cloud.account"),
    POLICY_FILE("policy.file"),
    ALERTS_TARGET("alerts.target"),
    ALERTS_FORMAT("alerts.format"),
    SOURCE("source"),
    HTTP_BIND("http.bind"),
    HTTP_PORT("http.port"),
    STANDALONE("standalone"),
    QUEUE_SOURCE("queues.source"),
    QUEUE_STAGE("queues.stage"),
    QUEUE_PARKING("queues.parking"),
    QUEUE_ALERTS("queues.alerts"),
    METADATA_RETRIES("metadata.retries"),
    WEBHOOK_URL("webhook.url"),
    WEBHOOK_SECRET_FILE("webhook.secretFile"),
    WEBHOOK_TIMEOUT("webhook.timeout"),
    WEBHOOK_FORMAT("webhook.format"),
    WEBHOOK_HEADERS("webhook.headers"),
    WEBHOOK_BODY_TEMPLATE("webhook.bodyTemplate"),
    WEBHOOK_CA_FILE("webhook.caFile"),
    KUBERNETES_EVENTS("kubernetesEvents.enabled"),
    DEDUP_WINDOW("dedup.window"),
    BLOCKING_DECISION_TIMEOUT("blocking.decisionTimeout"),
    BLOCKING_ON_TIMEOUT("blocking.onTimeout"),
    SHUTDOWN_TIMEOUT("shutdown.timeout"),
    METRICS_STAGE_HISTOGRAMS("metrics.stageHistograms"),
    LOG_LEVEL("log.level"),
    EBPF_LIBRARY_DRIFT("ebpf.libraryDrift"),
    EBPF_WRITE_TRACKING("ebpf.writeTracking"),
    LEARN_NAMESPACES("learn.namespaces"),
    LEARN_WORKLOADS("learn.workloads"),
    LEARN_DURATION("learn.duration"),
    LEARN_ALERTS_FILE("learn.alertsFile"),
    LEARN_SUGGESTION_FILE("learn.suggestionFile");

    /** The Kubernetes downward-API variable that also sets {@link #NODE_NAME} (below {@code DRIFT_NODE_NAME}). */
    public static final String DOWNWARD_API_NODE_NAME = "NODE_NAME";
    /** The environment variable naming the configuration file (below {@code --config}). */
    public static final String CONFIG_FILE_ENV = "DRIFT_CONFIG";

    private static final Map<String, Setting> BY_KEY =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(s -> s.key, Function.identity()));
    private static final Map<String, Setting> BY_ENV =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Setting::envName, Function.identity()));

    private final String key;

    Setting(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    public String envName() {
        return "DRIFT_" + key.replace('.', '_').replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    /** Whether the setting takes a list (a YAML list, or comma-separated text). */
    public boolean isList() {
        return this == METADATA_RETRIES || this == LEARN_NAMESPACES || this == LEARN_WORKLOADS;
    }

    public static Optional<Setting> byKey(String key) {
        return Optional.ofNullable(BY_KEY.get(key));
    }

    public static Optional<Setting> byEnvName(String name) {
        return Optional.ofNullable(BY_ENV.get(name));
    }

    /** Whether {@code prefix} names a section (a YAML mapping) that holds settings. */
    static boolean isSection(String prefix) {
        return BY_KEY.keySet().stream().anyMatch(k -> k.startsWith(prefix + "."));
    }
}
