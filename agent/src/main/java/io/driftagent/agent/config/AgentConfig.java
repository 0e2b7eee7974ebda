package io.driftagent.agent.config;

import io.driftagent.policy.model.CloudProvider;

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
 */
public record AgentConfig(String nodeName, String clusterName, CloudProvider cloudProvider, String cloudAccount,
                          Path policyFile, String alertsTarget, SourceChoice source, Http http, boolean standalone,
                          Queues queues, List<Duration> metadataRetries, Webhook webhook, boolean kubernetesEvents,
                          Duration dedupWindow, Blocking blocking, Duration shutdownTimeout, LogLevel logLevel,
                          boolean stageHistograms) {

    public static final String STDOUT = "-";

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

    /** @param secretFile file holding the HMAC-SHA256 key, null = unsigned */
    public record Webhook(URI url, Path secretFile, Duration timeout) {
        public Webhook {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(timeout, "timeout");
        }
    }

    public record Blocking(Duration decisionTimeout, TimeoutAction onTimeout) {
        public static final Blocking DEFAULTS = new Blocking(Duration.ofMillis(250), TimeoutAction.DENY);

        public Blocking {
            Objects.requireNonNull(decisionTimeout, "decisionTimeout");
            Objects.requireNonNull(onTimeout, "onTimeout");
        }
    }
}
