package io.driftagent.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The Helm chart, linted and rendered by Helm itself (helm-java embeds Helm 3). */
class HelmChartTest {
    private static final Path CHART = Path.of("..", "deploy", "helm", "drift-agent").toAbsolutePath().normalize();
    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private static List<JsonNode> render(Consumer<TemplateCommand> options) throws Exception {
        TemplateCommand template = new Helm(CHART).template().withName("drift").withNamespace("security");
        options.accept(template);
        String manifests = template.call();
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(manifests)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    documents.add(doc);
                }
            }
        }
        return documents;
    }

    private static Optional<JsonNode> kind(List<JsonNode> documents, String kind) {
        return documents.stream().filter(d -> kind.equals(d.path("kind").asString())).findFirst();
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asString).toList();
    }

    private static JsonNode agentContainer(List<JsonNode> documents) {
        return kind(documents, "DaemonSet").orElseThrow().path("spec").path("template").path("spec")
                .path("containers").get(0);
    }

    private static Optional<JsonNode> env(JsonNode container, String name) {
        return StreamSupport.stream(container.path("env").spliterator(), false)
                .filter(e -> name.equals(e.path("name").asString())).findFirst();
    }

    @Test
    void theChartPassesHelmLintStrictly() {
        assertThat(Files.isDirectory(CHART)).as(CHART.toString()).isTrue();

        LintResult result = new Helm(CHART).lint().strict().call();

        assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
    }

    @Test
    void theDaemonSetRunsInTheHostPidNamespaceWithItsNodeNameFromTheDownwardApi() throws Exception {
        List<JsonNode> documents = render(t -> { });

        JsonNode podSpec = kind(documents, "DaemonSet").orElseThrow().path("spec").path("template").path("spec");
        assertThat(podSpec.path("hostPID").asBoolean()).isTrue();
        JsonNode container = agentContainer(documents);
        assertThat(env(container, "NODE_NAME").orElseThrow().path("valueFrom").path("fieldRef").path("fieldPath")
                .asString()).isEqualTo("spec.nodeName");
        assertThat(texts(container.path("args"))).containsExactly("run");
        assertThat(env(container, "JAVA_TOOL_OPTIONS").orElseThrow().path("value").asString())
                .contains("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAM=");
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asString()).isEqualTo("/healthz");
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asString()).isEqualTo("/readyz");
        assertThat(container.path("resources").path("limits").path("memory").asString()).isEqualTo("160Mi");
    }

    @Test
    void theAgentGetsOnlyTheCapabilitiesItNeedsAndReadOnlyHostMounts() throws Exception {
        JsonNode container = agentContainer(render(t -> { }));

        JsonNode security = container.path("securityContext");
        assertThat(security.path("privileged").asBoolean()).isFalse();
        assertThat(texts(security.path("capabilities").path("drop"))).containsExactly("ALL");
        assertThat(texts(security.path("capabilities").path("add")))
                .containsExactlyInAnyOrder("SYS_ADMIN", "BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH", "SYS_RESOURCE");
        Map<String, Boolean> mounts = new java.util.HashMap<>();
        container.path("volumeMounts").forEach(m -> mounts.put(m.path("mountPath").asString(), m.path("readOnly").asBoolean()));
        assertThat(mounts).containsEntry("/sys/kernel/btf", true).containsEntry("/sys/fs/cgroup", false).containsEntry("/sys/kernel/tracing", true)
                .containsEntry("/run/containerd", true).containsEntry("/var/lib/containerd", true)
                .containsEntry("/etc/drift-agent/policy", true);
    }

    @Test
    void theClusterRoleGrantsExactlyReadingPodsGettingNodesAndWritingEvents() throws Exception {
        JsonNode role = kind(render(t -> { }), "ClusterRole").orElseThrow();

        List<String> rules = new ArrayList<>();
        role.path("rules").forEach(rule -> rules.add(texts(rule.path("apiGroups")) + " " + texts(rule.path("resources"))
                + " " + texts(rule.path("verbs"))));
        assertThat(rules).containsExactly(
                "[] [pods] [get, list, watch]",
                "[] [nodes] [get]",
                "[] [events] [create, patch]");
        JsonNode binding = kind(render(t -> { }), "ClusterRoleBinding").orElseThrow();
        assertThat(binding.path("subjects").get(0).path("namespace").asString()).isEqualTo("security");
    }

    @Test
    void thePolicyFromValuesIsRenderedIntoTheConfigMapAsAPolicyDocument() throws Exception {
        JsonNode configMap = kind(render(t -> t.set("policy.defaultRule.action", "ignore")), "ConfigMap").orElseThrow();

        JsonNode policy = YAML.readTree(configMap.path("data").path("policy.yaml").asString());
        assertThat(policy.path("kind").asString()).isEqualTo("DriftPolicy");
        assertThat(policy.path("rules").get(0).path("name").asString()).isEqualTo("ignore-kube-system");
        assertThat(policy.path("defaultRule").path("action").asString()).isEqualTo("ignore");
    }

    @Test
    void theServiceMonitorIsRenderedOnlyWhenEnabled() throws Exception {
        assertThat(kind(render(t -> { }), "ServiceMonitor")).isEmpty();

        JsonNode monitor = kind(render(t -> t.set("serviceMonitor.enabled", "true")), "ServiceMonitor").orElseThrow();

        assertThat(monitor.path("spec").path("endpoints").get(0).path("path").asString()).isEqualTo("/metrics");
        assertThat(monitor.path("spec").path("endpoints").get(0).path("port").asString()).isEqualTo("http");
    }

    @Test
    void clusterCloudAndASignedWebhookAreConfiguredThroughTheEnvironmentAndASecretFile() throws Exception {
        JsonNode container = agentContainer(render(t -> t.set("clusterName", "prod-weu").set("cloud.provider", "aws")
                .set("cloud.account", "123456789012").set("webhook.url", "https://hooks.example.com/drift")
                .set("webhook.hmacSecret.name", "drift-webhook")));

        assertThat(env(container, "DRIFT_CLUSTER_NAME").orElseThrow().path("value").asString()).isEqualTo("prod-weu");
        assertThat(env(container, "DRIFT_CLOUD_PROVIDER").orElseThrow().path("value").asString()).isEqualTo("aws");
        assertThat(env(container, "DRIFT_CLOUD_ACCOUNT").orElseThrow().path("value").asString())
                .isEqualTo("123456789012");
        assertThat(env(container, "DRIFT_WEBHOOK_URL").orElseThrow().path("value").asString())
                .isEqualTo("https://hooks.example.com/drift");
        assertThat(env(container, "DRIFT_WEBHOOK_SECRET_FILE").orElseThrow().path("value").asString())
                .isEqualTo("/etc/drift-agent/webhook/hmac-key");
        assertThat(StreamSupport.stream(container.path("volumeMounts").spliterator(), false)
                .map(m -> m.path("mountPath").asString())).contains("/etc/drift-agent/webhook");
    }

    @Test
    void withoutAClusterNameOrWebhookNoSuchSettingIsPassed() throws Exception {
        JsonNode container = agentContainer(render(t -> { }));

        assertThat(env(container, "DRIFT_CLUSTER_NAME")).isEmpty();
        assertThat(env(container, "DRIFT_WEBHOOK_URL")).isEmpty();
        assertThat(env(container, "DRIFT_CLOUD_ACCOUNT")).isEmpty();
    }
}
