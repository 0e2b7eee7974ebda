package io.driftagent.agent.config;

import io.driftagent.policy.model.CloudProvider;
import io.driftagent.reporter.json.AlertFormat;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The agent's configuration, after merging defaults, the YAML file, the environment and the command-line flags
 * (in that order of increasing precedence). Unset optional values are null. See {@code docs/configuration.md}.
 *
 * @param nodeName      this node (downward API {@code NODE_NAME}); standalone: the host name by default
 * @param clusterName   reported in alerts and matched by policy cluster scopes; null if not configured
 * @param cloudProvider overrides what the node's providerID says; null = detect
 * @param cloudAccount  subscription / account / project; null = detect (AWS needs it configured)
 * @param policyFile    the drift policy, hot-reloaded; null = the policy engine's built-in default rule only
 * @param alertsTarget  {@code -} for stdout, else a file path appended to
 * @param source        exec source
 * @param http          bind address and port of /healthz, /readyz, /metrics
 * @param standalone    no Kubernetes: metadata from the container runtime
 * @param queues        bounded queue sizes
 * @param metadataRetries when to look again for a container's late workload metadata (offsets from the first miss)
 * @param webhook       webhook sink, null = off
 * @param kubernetesEvents post Kubernetes Events on the pod (ignored standalone)
 * @param dedupWindow   the same (container, path, kind) within this window is one alert with a count; zero = off
 * @param blocking      the blocking guard's deadline and its answer when it passes
 * @param shutdownTimeout how long a shutdown may take to drain queues
 * @param logLevel      application log threshold
 * @param stageHistograms per-stage latency histograms on /metrics (opt-in); false = count and sum per stage
 * @param alertsFormat  the JSON shape of the alert lines: drift-agent's own or Falco's
 * @param learn         learn mode: alerts of some workloads kept aside for a while, then a suggested policy
 * @param kernelHooks   the eBPF source's optional hooks on system call tracepoints (library drift, write tracking)
 */
public record AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                          Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                          Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                          Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel,
                          boolean stageHistograms, AlertFormat alertsFormat, Learn learn, KernelHooks kernelHooks) {

    public static final String STDOUT = "-";

    /** With both kernel hooks on (the default). */
    public AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                       Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                       Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                       Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel,
                       boolean stageHistograms, AlertFormat alertsFormat, Learn learn) {
        this(nodeName, clusterName, cloudProvider, cloudAccount, policyFile, alertsTarget, source, http, standalone,
                queues, metadataRetries, webhook, kubernetesEvents, dedupWindow, blocking, shutdownTimeout, logLevel,
                stageHistograms, alertsFormat, learn, KernelHooks.ALL);
    }

    /** Alert lines in drift-agent's own format (the default), without learn mode. */
    public AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                       Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                       Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                       Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel,
                       boolean stageHistograms) {
        this(nodeName, clusterName, cloudProvider, cloudAccount, policyFile, alertsTarget, source, http, standalone,
                queues, metadataRetries, webhook, kubernetesEvents, dedupWindow, blocking, shutdownTimeout, logLevel,
                stageHistograms, AlertFormat.DRIFT, Learn.OFF);
    }

    /** Without learn mode. */
    public AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                       Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                       Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                       Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel,
                       boolean stageHistograms, AlertFormat alertsFormat) {
        this(nodeName, clusterName, cloudProvider, cloudAccount, policyFile, alertsTarget, source, http, standalone,
                queues, metadataRetries, webhook, kubernetesEvents, dedupWindow, blocking, shutdownTimeout, logLevel,
                stageHistograms, alertsFormat, Learn.OFF);
    }

    /** Alert lines in drift-agent's own format (the default). */
    public AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                       Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                       Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                       Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel,
                       boolean stageHistograms, Learn learn) {
        this(nodeName, clusterName, cloudProvider, cloudAccount, policyFile, alertsTarget, source, http, standalone,
                queues, metadataRetries, webhook, kubernetesEvents, dedupWindow, blocking, shutdownTimeout, logLevel,
                stageHistograms, AlertFormat.DRIFT, learn);
    }

    /** Without per-stage latency histograms (the default). */
    public AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                       Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                       Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                       Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel) {
        this(nodeName, clusterName, cloudProvider, cloudAccount, policyFile, alertsTarget, source, http, standalone,
                queues, metadataRetries, webhook, kubernetesEvents, dedupWindow, blocking, shutdownTimeout, logLevel,
                false);
    }

    public AgentConfig {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(alertsTarget, "alertsTarget");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(queues, "queues");
        metadataRetries = List.copyOf(metadataRetries);
        Objects.requireNonNull(dedupWindow, "dedupWindow");
        Objects.requireNonNull(blocking, "blocking");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(alertsFormat, "alertsFormat");
        Objects.requireNonNull(learn, "learn");
        Objects.requireNonNull(kernelHooks, "kernelHooks");
    }

    /**
     * The eBPF source's hooks on system call tracepoints, each of which puts every system call of the node on the
     * kernel's tracepoint path while attached (docs/benchmarks.md, "System call tax").
     *
     * @param libraryDrift  {@code sys_enter_mmap}: executable file mappings, library drift
     * @param writeTracking {@code sys_exit_openat} and its siblings: who wrote a drifted file ({@code drift.origin})
     */
    public record KernelHooks(boolean libraryDrift, boolean writeTracking) {
        public static final KernelHooks ALL = new KernelHooks(true, true);
    }

    public boolean alertsToStdout() {
        return STDOUT.equals(alertsTarget);
    }

    /** @param bind an IP address literal; {@code port} 0 picks a free port */
    public record Http(String bind, int port) {
        public static final String DEFAULT_BIND = "0.0.0.0";
        public static final int DEFAULT_PORT = 9742;

        public Http {
            Objects.requireNonNull(bind, "bind");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }
    }

    /**
     * @param source  the first pipeline queue, fed by the exec source's reader thread
     * @param stage   every later pipeline stage's input queue
     * @param parking execs waiting for late metadata at once
     * @param alerts  the reporter dispatcher's queue
     */
    public record Queues(int source, int stage, int parking, int alerts) {
        public static final Queues DEFAULTS = new Queues(8192, 1024, 1024, 1024);
    }

    /**
     * @param secretFile   file holding the HMAC-SHA256 key, null = unsigned
     * @param format       the body's JSON shape when there is no template
     * @param headers      custom header lines {@code Name: value}, values may hold {@code {{file:/path}}}
     * @param bodyTemplate the body template (docs/alerts.md, "Body template"), null = the format's JSON
     * @param caFile       PEM bundle of the CAs trusted for https instead of the JDK's, null = the JDK's
     */
    public record Webhook(URI url, Path secretFile, Duration timeout, AlertFormat format, List<String> headers,
                          String bodyTemplate, Path caFile) {
        public Webhook {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(format, "format");
            headers = List.copyOf(headers);
        }

        /** drift-agent's JSON, no custom header, no template, the JDK's CAs. */
        public Webhook(URI url, Path secretFile, Duration timeout) {
            this(url, secretFile, timeout, AlertFormat.DRIFT, List.of(), null, null);
        }

        @Override
        public String toString() {
            // header lines may hold an inline token: show their names only
            return "Webhook[url=" + url + ", secretFile=" + secretFile + ", timeout=" + timeout + ", format=" + format
                    + ", headers=" + headers.stream().map(h -> h.contains(":") ? h.substring(0, h.indexOf(':')) : "?")
                    .toList() + ", bodyTemplate=" + (bodyTemplate != null) + ", caFile=" + caFile + "]";
        }
    }

    public record Blocking(Duration decisionTimeout, TimeoutAction onTimeout) {
        public static final Blocking DEFAULTS = new Blocking(Duration.ofMillis(250), TimeoutAction.DENY);

        public Blocking {
            Objects.requireNonNull(decisionTimeout, "decisionTimeout");
            Objects.requireNonNull(onTimeout, "onTimeout");
        }
    }

    /**
     * Learn mode: the alerts of the named namespaces and workloads (both filters apply when both are given) are
     * written to {@code alertsFile} instead of being emitted, for {@code duration} from the agent's start; then a
     * suggested policy is written to {@code suggestionFile}. Off when no namespace and no workload is named.
     *
     * @param workloads workload names: a pod's workload label value (app.kubernetes.io/name, app, k8s-app, name),
     *                  else its container name
     */
    public record Learn(java.util.Set<String> namespaces, java.util.Set<String> workloads, Duration duration,
                        Path alertsFile, Path suggestionFile) {
        public static final Duration DEFAULT_DURATION = Duration.ofHours(24);
        public static final Learn OFF = new Learn(java.util.Set.of(), java.util.Set.of(), DEFAULT_DURATION, null, null);

        public Learn {
            namespaces = java.util.Set.copyOf(namespaces);
            workloads = java.util.Set.copyOf(workloads);
            Objects.requireNonNull(duration, "duration");
            if (!namespaces.isEmpty() || !workloads.isEmpty()) {
                Objects.requireNonNull(alertsFile, "alertsFile");
                Objects.requireNonNull(suggestionFile, "suggestionFile");
                if (duration.isZero() || duration.isNegative()) {
                    throw new IllegalArgumentException("duration must be positive: " + duration);
                }
            }
        }

        public boolean enabled() {
            return !namespaces.isEmpty() || !workloads.isEmpty();
        }
    }
}
