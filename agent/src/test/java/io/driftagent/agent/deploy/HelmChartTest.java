package io.driftagent.agent.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import com.sun.net.httpserver.HttpServer;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.Setting;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.json.AlertFormat;
import io.driftagent.reporter.metrics.DriftMetrics;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The Helm chart, linted and rendered by Helm itself (helm-java embeds Helm 3), values schema included. */
class HelmChartTest {
    private static final Path CHART = Path.of("..", "deploy", "helm", "drift-agent").toAbsolutePath().normalize();
    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private static List<JsonNode> render(Consumer<TemplateCommand> options) {
        return render(CHART, options);
    }

    private static List<JsonNode> render(Path chart, Consumer<TemplateCommand> options) {
        TemplateCommand template = new Helm(chart).template().withName("drift").withNamespace("security");
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

    private static Consumer<TemplateCommand> valuesFile(String platform) {
        return t -> {
            if (!platform.isEmpty()) {
                t.withValuesFile(CHART.resolve("values-" + platform + ".yaml"));
            }
        };
    }

    private static Optional<JsonNode> kind(List<JsonNode> documents, String kind) {
        return documents.stream().filter(d -> kind.equals(d.path("kind").asString())).findFirst();
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asString).toList();
    }

    private static JsonNode podSpec(List<JsonNode> documents) {
        return kind(documents, "DaemonSet").orElseThrow().path("spec").path("template").path("spec");
    }

    private static JsonNode agentContainer(List<JsonNode> documents) {
        return podSpec(documents).path("containers").get(0);
    }

    /** The configuration the agent makes of the container's literal environment variables (NODE_NAME as kubelet sets it). */
    private static AgentConfig configFromEnvironmentOf(JsonNode container) {
        Map<String, String> env = new HashMap<>();
        container.path("env").forEach(e -> {
            if (e.has("value")) {
                env.put(e.path("name").asString(), e.path("value").asString());
            }
        });
        env.put("NODE_NAME", "node-1");
        return assertDoesNotThrow(() -> new ConfigLoader(() -> "h").load(Optional.empty(), env, Map.of()));
    }

    private static Optional<JsonNode> env(JsonNode container, String name) {
        return StreamSupport.stream(container.path("env").spliterator(), false)
                .filter(e -> name.equals(e.path("name").asString())).findFirst();
    }

    private static Optional<JsonNode> named(JsonNode array, String name) {
        return StreamSupport.stream(array.spliterator(), false)
                .filter(e -> name.equals(e.path("name").asString())).findFirst();
    }

    private static Map<String, String> mounts(JsonNode container) {
        Map<String, String> byPath = new HashMap<>();
        container.path("volumeMounts").forEach(m -> byPath.put(m.path("mountPath").asString(), m.path("name").asString()));
        return byPath;
    }

    /** What `helm template` says when it refuses to render (helm-java reports it as an exception's message). */
    private static String refusal(Consumer<TemplateCommand> options) {
        try {
            render(options);
        } catch (RuntimeException e) {
            return e.getMessage();
        }
        throw new AssertionError("helm template rendered the chart; a refusal was expected");
    }

    @ParameterizedTest(name = "values{0}")
    @ValueSource(strings = {"", "-aks", "-eks", "-eks-bottlerocket", "-gke"})
    void theChartPassesHelmLintStrictlyWithTheDefaultAndEachPlatformValuesFile(String suffix, @TempDir Path copy)
            throws IOException {
        assertThat(Files.isDirectory(CHART)).as(CHART.toString()).isTrue();
        // helm-java's lint takes no values file: lint a copy whose values.yaml is the defaults with the file merged in,
        // as Helm merges them (mappings key by key, anything else replaced)
        copyTree(CHART, copy);
        if (!suffix.isEmpty()) {
            JsonNode defaults = YAML.readTree(CHART.resolve("values.yaml").toFile());
            JsonNode platform = YAML.readTree(CHART.resolve("values" + suffix + ".yaml").toFile());
            YAML.writeValue(copy.resolve("values.yaml").toFile(), merge((ObjectNode) defaults, platform));
        }

        LintResult result = new Helm(copy).lint().strict().call();

        assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
    }

    @ParameterizedTest(name = "values{0}")
    @ValueSource(strings = {"", "aks", "eks", "eks-bottlerocket", "gke"})
    void eachPlatformValuesFileRendersADaemonSetMadeOnlyOfKubernetesFields(String platform) {
        List<JsonNode> documents = render(valuesFile(platform));

        String daemonSet = kind(documents, "DaemonSet").orElseThrow().toString();
        DaemonSet typed = new KubernetesSerialization().unmarshal(daemonSet, DaemonSet.class);
        List<String> unknown = new ArrayList<>();
        unknownFields(typed, "DaemonSet", unknown);
        assertThat(unknown).as("fields the Kubernetes API does not know (a typo would be dropped by the API server)")
                .isEmpty();
        assertThat(typed.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).isNotBlank();
        assertThat(kind(documents, "ConfigMap")).isPresent();
        assertThat(kind(documents, "ClusterRole")).isPresent();
    }

    @ParameterizedTest(name = "values{0}")
    @ValueSource(strings = {"", "aks", "eks", "eks-bottlerocket", "gke"})
    void everyDriftVariableTheChartSetsIsASettingTheAgentKnows(String platform) {
        JsonNode container = agentContainer(render(valuesFile(platform).andThen(t -> t
                .set("clusterName", "prod").set("cloud.account", "012345678901")
                .set("webhook.urlSecret.name", "hook").set("webhook.hmacSecret.name", "hmac")
                .set("http.bindAddress", "0.0.0.0").set("http.stageHistograms", "true"))));

        List<String> names = StreamSupport.stream(container.path("env").spliterator(), false)
                .map(e -> e.path("name").asString()).filter(n -> n.startsWith("DRIFT_")).toList();

        assertThat(names).hasSizeGreaterThanOrEqualTo(13).contains("DRIFT_METRICS_STAGE_HISTOGRAMS");
        assertThat(names).allSatisfy(n -> assertThat(Setting.byEnvName(n)).as(n).isPresent());
    }

    @Test
    void aMisspelledKeyFailsTheRenderingWithAMessageNamingIt() {
        String message = refusal(t -> t.set("agent.sorce", "ebpf"));

        assertThat(message).contains("sorce").containsIgnoringCase("not allowed");
    }

    @Test
    void aMisspelledTopLevelKeyFailsTheRenderingToo() {
        String message = refusal(t -> t.set("priorityClass", "system-node-critical"));

        assertThat(message).contains("priorityClass").containsIgnoringCase("not allowed");
    }

    @Test
    void aValueOfTheWrongTypeFailsTheRenderingWithAMessageNamingTheKeyAndTheType() {
        String message = refusal(t -> t.set("http.port", "ninety"));

        assertThat(message).contains("http.port").containsIgnoringCase("integer");
    }

    @Test
    void aNumericValueForAnEnvironmentVariableIsRefusedBeforeTheApiServerWould() {
        String message = refusal(t -> t.set("extraEnv[0].name", "DRIFT_QUEUES_SOURCE").set("extraEnv[0].value", 16384));

        assertThat(message).contains("extraEnv.0.value").containsIgnoringCase("string");
    }

    @Test
    void anUnquotedAccountIdIsRefusedBecauseHelmWouldDropItsLeadingZero() {
        String message = refusal(t -> t.set("cloud.account", 12345678901L));

        assertThat(message).contains("cloud.account").containsIgnoringCase("string");
    }

    @Test
    void aMisspelledKeyInThePolicyDocumentFailsTheRendering() {
        String message = refusal(t -> t.set("policy.document.rules[0].acton", "alert"));

        assertThat(message).contains("acton");
    }

    @Test
    void aBlockRuleMayNameWhatALateDecisionMeansAndNothingElse() {
        List<JsonNode> documents = render(t -> t.set("policy.document.defaultRule.action", "block")
                .set("policy.document.defaultRule.onTimeout", "deny"));

        assertThat(kind(documents, "ConfigMap").orElseThrow().path("data").path("policy.yaml").asString())
                .contains("onTimeout: deny");
        assertThat(refusal(t -> t.set("policy.document.defaultRule.onTimeout", "maybe")))
                .contains("policy.document.defaultRule.onTimeout");
    }

    @Test
    void theDaemonSetRunsInTheHostPidNamespaceWithItsNodeNameFromTheDownwardApi() {
        List<JsonNode> documents = render(t -> { });

        assertThat(podSpec(documents).path("hostPID").asBoolean()).isTrue();
        JsonNode container = agentContainer(documents);
        assertThat(env(container, "NODE_NAME").orElseThrow().path("valueFrom").path("fieldRef").path("fieldPath")
                .asString()).isEqualTo("spec.nodeName");
        assertThat(texts(container.path("args"))).containsExactly("run");
        assertThat(env(container, "JAVA_TOOL_OPTIONS").orElseThrow().path("value").asString())
                .contains("-XX:+UseSerialGC", "-Xss512k", "-XX:MaxRAM=");
        assertThat(container.path("resources").path("limits").path("memory").asString()).isEqualTo("160Mi");
    }

    @Test
    void theChartsJvmOptionsAreTheImagesOwnSoThePodRunsWithTheMeasuredSettings() throws IOException {
        // given the image's JAVA_TOOL_OPTIONS, which the chart's variable of the same name replaces in the pod
        String dockerfile = Files.readString(CHART.resolve("../../../Dockerfile").normalize());
        Matcher image = Pattern
                .compile("(?m)^ENV JAVA_TOOL_OPTIONS=\"([^\"]*)\"").matcher(dockerfile);
        assertThat(image.find()).as("ENV JAVA_TOOL_OPTIONS in the Dockerfile").isTrue();

        // when the chart renders with its defaults
        JsonNode container = agentContainer(render(t -> { }));

        // then the pod's JVM flags are the image's, flag for flag
        String chart = env(container, "JAVA_TOOL_OPTIONS").orElseThrow().path("value").asString();
        assertThat(List.of(chart.trim().split("\\s+")))
                .containsExactlyElementsOf(List.of(image.group(1).trim().split("\\s+")));
    }

    @Test
    void theChartsJvmOptionsAreAcceptedByAJava17JvmThatThenTrimsItsNativeHeapPeriodically() throws Exception {
        // given the pod's JVM flags as the chart renders them
        String chart = env(agentContainer(render(t -> { })), "JAVA_TOOL_OPTIONS").orElseThrow().path("value")
                .asString();

        // when a Java 17 JVM starts with them and prints its final flags
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(chart.trim().split("\\s+")));
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        Process jvm = builder.start();
        String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        // then every flag exists in this JVM, and malloc memory freed after a burst (C1's arenas, libbpf's BTF)
        // goes back to the kernel instead of staying in the RSS (docs/benchmarks.md "Footprint")
        assertThat(jvm.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(jvm.exitValue()).as(out).isZero();
        assertThat(out).containsPattern("(?m)^\\s*uint TrimNativeHeapInterval\\s+= [1-9][0-9]*\\s");
    }

    @Test
    void kubeletInjectsNoServiceLinkVariablesThatTheAgentWouldTakeForSettings() {
        JsonNode podSpec = podSpec(render(t -> { }));

        assertThat(podSpec.has("enableServiceLinks")).isTrue();
        assertThat(podSpec.path("enableServiceLinks").asBoolean()).isFalse();
    }

    @Test
    void theStartupProbeGivesTheJvmABudgetOfSixtySecondsOnHealthzBeforeLivenessTakesOver() {
        JsonNode container = agentContainer(render(t -> { }));

        JsonNode startup = container.path("startupProbe");
        assertThat(startup.path("httpGet").path("path").asString()).isEqualTo("/healthz");
        assertThat(startup.path("failureThreshold").asInt() * startup.path("periodSeconds").asInt()).isEqualTo(60);
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asString()).isEqualTo("/healthz");
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asString()).isEqualTo("/readyz");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            assertThat(container.path(probe).path("timeoutSeconds").asInt()).as(probe).isGreaterThanOrEqualTo(3);
            assertThat(container.path(probe).has("initialDelaySeconds")).as(probe).isFalse();
        }
    }

    @Test
    void theStartupBudgetIsAValue() {
        JsonNode startup = agentContainer(render(t -> t.set("probes.startup.failureThreshold", 90)))
                .path("startupProbe");

        assertThat(startup.path("failureThreshold").asInt() * startup.path("periodSeconds").asInt()).isEqualTo(180);
    }

    @Test
    void theAgentGetsOnlyTheCapabilitiesItNeedsAndReadOnlyHostMounts() {
        JsonNode container = agentContainer(render(t -> { }));

        JsonNode security = container.path("securityContext");
        assertThat(security.path("privileged").asBoolean()).isFalse();
        assertThat(texts(security.path("capabilities").path("drop"))).containsExactly("ALL");
        assertThat(texts(security.path("capabilities").path("add")))
                .containsExactlyInAnyOrder("SYS_ADMIN", "BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH", "SYS_RESOURCE",
                        "SYSLOG");
        Map<String, Boolean> readOnly = new HashMap<>();
        container.path("volumeMounts").forEach(m -> readOnly.put(m.path("mountPath").asString(), m.path("readOnly").asBoolean()));
        assertThat(readOnly).containsEntry("/sys/fs/cgroup", false).containsEntry("/sys/kernel/tracing", true)
                .containsEntry("/run/containerd", true).containsEntry("/var/lib/containerd", true)
                .containsEntry("/etc/drift-agent/policy", true);
    }

    @Test
    void noHostPathUnderKernelBtfCanKeepThePodFromStartingOnANodeWithoutBtf() {
        List<JsonNode> documents = render(t -> { });

        assertThat(mounts(agentContainer(documents)).keySet()).noneMatch(p -> p.startsWith("/sys/kernel/btf"));
        assertThat(StreamSupport.stream(podSpec(documents).path("volumes").spliterator(), false)
                .map(v -> v.path("hostPath").path("path").asString())).noneMatch(p -> p.startsWith("/sys/kernel/btf"));
    }

    @Test
    void thePolicyFromValuesIsRenderedIntoTheConfigMapAsAPolicyDocument() throws IOException {
        JsonNode configMap = kind(render(t -> t.set("policy.document.defaultRule.action", "ignore")), "ConfigMap")
                .orElseThrow();

        JsonNode policy = YAML.readTree(configMap.path("data").path("policy.yaml").asString());
        assertThat(policy.path("kind").asString()).isEqualTo("DriftPolicy");
        assertThat(policy.path("rules").get(0).path("name").asString()).isEqualTo("ignore-kube-system");
        assertThat(policy.path("defaultRule").path("action").asString()).isEqualTo("ignore");
    }

    @ParameterizedTest(name = "values{0}")
    @ValueSource(strings = {"", "aks", "eks", "eks-bottlerocket", "gke"})
    void thePolicyEachPlatformFileRendersLoadsInTheAgentWithoutAProblem(String platform) {
        String policy = kind(render(valuesFile(platform)), "ConfigMap").orElseThrow().path("data").path("policy.yaml")
                .asString();

        PolicyLoadResult result = new PolicyLoader().load("policy.yaml", policy.getBytes(StandardCharsets.UTF_8));

        assertThat(result.problems()).isEmpty();
        assertThat(result.policy()).isPresent();
    }

    @Test
    void aPolicyChangeLeavesThePodTemplateUnchangedSoNoAgentRestarts() {
        List<JsonNode> before = render(t -> { });
        List<JsonNode> after = render(t -> t.set("policy.document.defaultRule.action", "block"));

        assertThat(kind(after, "ConfigMap").orElseThrow()).isNotEqualTo(kind(before, "ConfigMap").orElseThrow());
        JsonNode template = kind(after, "DaemonSet").orElseThrow().path("spec").path("template");
        assertThat(template).isEqualTo(kind(before, "DaemonSet").orElseThrow().path("spec").path("template"));
        assertThat(template.path("metadata").path("annotations").propertyNames()).noneMatch(k -> k.startsWith("checksum/"));
        JsonNode policyMount = StreamSupport.stream(agentContainer(after).path("volumeMounts").spliterator(), false)
                .filter(m -> m.path("name").asString().equals("policy")).findFirst().orElseThrow();
        assertThat(policyMount.has("subPath")).as("a subPath mount never sees ConfigMap updates").isFalse();
    }

    @Test
    void anExistingConfigMapReplacesTheChartsOwnAndItsKeyNamesThePolicyFile() {
        List<JsonNode> documents = render(t -> t.set("policy.existingConfigMap", "team-drift-policy")
                .set("policy.key", "drift.yaml"));

        assertThat(kind(documents, "ConfigMap")).isEmpty();
        JsonNode volume = named(podSpec(documents).path("volumes"), "policy").orElseThrow();
        assertThat(volume.path("configMap").path("name").asString()).isEqualTo("team-drift-policy");
        assertThat(env(agentContainer(documents), "DRIFT_POLICY_FILE").orElseThrow().path("value").asString())
                .isEqualTo("/etc/drift-agent/policy/drift.yaml");
    }

    @Test
    void theDriftPolicyCrdIsRenderedAsGeneratedKeptOnUninstallAndOnlyWhenAsked() throws IOException {
        // given the chart rendered with its defaults and with the CRD switched off
        List<JsonNode> defaults = render(t -> { });
        List<JsonNode> without = render(t -> t.set("policy.resources.installCRD", "false"));

        // then by default it holds the generated CRD, labelled, with Helm's keep policy; switched off, none
        JsonNode crd = kind(defaults, "CustomResourceDefinition").orElseThrow();
        JsonNode generated = YAML.readTree(io.driftagent.agent.policysource.DriftPolicyCrd.yaml());
        assertThat(crd.path("spec")).isEqualTo(generated.path("spec"));
        assertThat(crd.path("metadata").path("name").asString()).isEqualTo("driftpolicies.drift-agent.io");
        assertThat(crd.path("metadata").path("annotations").path("helm.sh/resource-policy").asString()).isEqualTo("keep");
        assertThat(crd.path("metadata").path("labels").path("app.kubernetes.io/name").asString()).isNotBlank();
        assertThat(kind(without, "CustomResourceDefinition")).isEmpty();
    }

    @Test
    void theServiceMonitorIsRenderedOnlyWhenEnabledAndLabelsEachSeriesWithItsNode() {
        assertThat(kind(render(t -> { }), "ServiceMonitor")).isEmpty();

        JsonNode monitor = kind(render(t -> t.set("serviceMonitor.enabled", "true")), "ServiceMonitor").orElseThrow();

        JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
        assertThat(endpoint.path("path").asString()).isEqualTo("/metrics");
        assertThat(endpoint.path("port").asString()).isEqualTo("http");
        assertNodeRelabeling(endpoint.path("relabelings"));
    }

    @Test
    void thePodMonitorIsRenderedOnlyWhenEnabledSelectsTheAgentPodsAndLabelsEachSeriesWithItsNode() {
        assertThat(kind(render(t -> { }), "PodMonitor")).isEmpty();

        List<JsonNode> documents = render(t -> t.set("podMonitor.enabled", "true").set("service.enabled", "false"));

        JsonNode monitor = kind(documents, "PodMonitor").orElseThrow();
        assertThat(monitor.path("spec").path("selector").path("matchLabels"))
                .isEqualTo(kind(documents, "DaemonSet").orElseThrow().path("spec").path("selector").path("matchLabels"));
        JsonNode endpoint = monitor.path("spec").path("podMetricsEndpoints").get(0);
        assertThat(endpoint.path("port").asString()).isEqualTo("http");
        assertThat(endpoint.path("path").asString()).isEqualTo("/metrics");
        assertNodeRelabeling(endpoint.path("relabelings"));
    }

    private static void assertNodeRelabeling(JsonNode relabelings) {
        assertThat(relabelings).anySatisfy(r -> {
            assertThat(texts(r.path("sourceLabels"))).containsExactly("__meta_kubernetes_pod_node_name");
            assertThat(r.path("targetLabel").asString()).isEqualTo("node");
        });
    }

    @Test
    void clusterCloudAndASignedWebhookAreConfiguredThroughTheEnvironmentAndASecretFile() {
        JsonNode container = agentContainer(render(t -> t.set("clusterName", "prod-weu").set("cloud.provider", "aws")
                .set("cloud.account", "012345678901").set("webhook.url", "https://hooks.example.com/drift")
                .set("webhook.hmacSecret.name", "drift-webhook")));

        assertThat(env(container, "DRIFT_CLUSTER_NAME").orElseThrow().path("value").asString()).isEqualTo("prod-weu");
        assertThat(env(container, "DRIFT_CLOUD_PROVIDER").orElseThrow().path("value").asString()).isEqualTo("aws");
        assertThat(env(container, "DRIFT_CLOUD_ACCOUNT").orElseThrow().path("value").asString())
                .isEqualTo("012345678901");
        assertThat(env(container, "DRIFT_WEBHOOK_URL").orElseThrow().path("value").asString())
                .isEqualTo("https://hooks.example.com/drift");
        assertThat(env(container, "DRIFT_WEBHOOK_SECRET_FILE").orElseThrow().path("value").asString())
                .isEqualTo("/etc/drift-agent/webhook/hmac-key");
        assertThat(mounts(container)).containsEntry("/etc/drift-agent/webhook", "webhook-hmac");
    }

    @Test
    void aWebhookUrlCarryingATokenComesFromASecretAndNeverAppearsInThePodSpec() {
        List<JsonNode> documents = render(t -> t.set("webhook.urlSecret.name", "drift-hook")
                .set("webhook.urlSecret.key", "endpoint").set("webhook.hmacSecret.name", "drift-hmac"));

        JsonNode url = env(agentContainer(documents), "DRIFT_WEBHOOK_URL").orElseThrow();
        assertThat(url.has("value")).isFalse();
        assertThat(url.path("valueFrom").path("secretKeyRef").path("name").asString()).isEqualTo("drift-hook");
        assertThat(url.path("valueFrom").path("secretKeyRef").path("key").asString()).isEqualTo("endpoint");
        assertThat(named(podSpec(documents).path("volumes"), "webhook-hmac").orElseThrow().path("secret")
                .path("secretName").asString()).isEqualTo("drift-hmac");
    }

    @Test
    void aWebhookUrlGivenBothInTheValuesAndInASecretIsRefused() {
        String message = refusal(t -> t.set("webhook.url", "https://hooks.example.com/drift")
                .set("webhook.urlSecret.name", "drift-hook"));

        assertThat(message).contains("webhook.url and webhook.urlSecret.name are both set");
    }

    @Test
    void webhookHeadersFromSecretsAreMountedFilesTheTemplateFormatAndCaBundleAreSettings(@TempDir Path dir)
            throws IOException {
        // given values for Splunk HEC behind a private CA, with the token in a Secret
        Path values = Files.writeString(dir.resolve("outputs.yaml"), """
                agent: {alertsFormat: falco}
                webhook:
                  url: https://hec.example:8088/services/collector/event
                  headers: {X-Source: drift-agent}
                  secretHeaders:
                    - {name: Authorization, prefix: "Splunk ", secret: {name: splunk-hec, key: token}}
                    - {name: X-Api-Key, secret: {name: other, key: api-key}}
                  bodyTemplate: '{"host": {{node}}, "sourcetype": "drift-agent", "event": {{alert}}}'
                  caBundle: {configMap: corp-ca, key: ca.pem}
                """);

        // when
        List<JsonNode> documents = render(t -> t.withValuesFile(values));

        // then the header lines name the mounted files, never a Secret's value
        JsonNode container = agentContainer(documents);
        assertThat(env(container, "DRIFT_ALERTS_FORMAT").orElseThrow().path("value").asString()).isEqualTo("falco");
        assertThat(env(container, "DRIFT_WEBHOOK_HEADERS").orElseThrow().path("value").asString()).isEqualTo(
                "X-Source: drift-agent\n"
                + "Authorization: Splunk {{file:/etc/drift-agent/webhook-headers/authorization}}\n"
                + "X-Api-Key: {{file:/etc/drift-agent/webhook-headers/x-api-key}}");
        assertThat(env(container, "DRIFT_WEBHOOK_BODY_TEMPLATE").orElseThrow().path("value").asString())
                .isEqualTo("{\"host\": {{node}}, \"sourcetype\": \"drift-agent\", \"event\": {{alert}}}");
        assertThat(env(container, "DRIFT_WEBHOOK_FORMAT")).as("a template replaces the format").isEmpty();
        assertThat(env(container, "DRIFT_WEBHOOK_CA_FILE").orElseThrow().path("value").asString())
                .isEqualTo("/etc/drift-agent/webhook-ca/ca.pem");
        assertThat(mounts(container)).containsEntry("/etc/drift-agent/webhook-headers", "webhook-headers")
                .containsEntry("/etc/drift-agent/webhook-ca", "webhook-ca");
        JsonNode sources = named(podSpec(documents).path("volumes"), "webhook-headers").orElseThrow()
                .path("projected").path("sources");
        assertThat(sources.size()).isEqualTo(2);
        assertThat(sources.get(0).path("secret").path("name").asString()).isEqualTo("splunk-hec");
        assertThat(sources.get(0).path("secret").path("items").get(0).path("key").asString()).isEqualTo("token");
        assertThat(sources.get(0).path("secret").path("items").get(0).path("path").asString()).isEqualTo("authorization");
        assertThat(sources.get(1).path("secret").path("items").get(0).path("path").asString()).isEqualTo("x-api-key");
        JsonNode ca = named(podSpec(documents).path("volumes"), "webhook-ca").orElseThrow();
        assertThat(ca.path("configMap").path("name").asString()).isEqualTo("corp-ca");
        assertThat(ca.path("configMap").path("items").get(0).path("path").asString()).isEqualTo("ca.pem");

        // and every variable is a setting the agent reads back into the same webhook
        AgentConfig config = configFromEnvironmentOf(container);
        assertThat(config.alertsFormat()).isEqualTo(AlertFormat.FALCO);
        assertThat(config.webhook().headers()).hasSize(3);
        assertThat(config.webhook().caFile()).isEqualTo(Path.of("/etc/drift-agent/webhook-ca/ca.pem"));
    }

    @Test
    void learnModeFromValuesKeepsItsFilesInANodeDirectoryAndIsASettingTheAgentReads(@TempDir Path dir)
            throws IOException {
        // given learn values for two namespaces and one workload
        Path values = Files.writeString(dir.resolve("learn.yaml"), """
                learn: {namespaces: [shop, pay], workloads: [web], duration: 72h, hostPath: /var/lib/drift-agent/learn}
                """);

        // when
        List<JsonNode> documents = render(t -> t.withValuesFile(values));

        // then the learn file and the suggestion live on a node directory that survives a restart
        JsonNode container = agentContainer(documents);
        assertThat(mounts(container)).containsEntry("/var/lib/drift-agent/learn", "learn");
        JsonNode volume = named(podSpec(documents).path("volumes"), "learn").orElseThrow();
        assertThat(volume.path("hostPath").path("path").asString()).isEqualTo("/var/lib/drift-agent/learn");
        assertThat(volume.path("hostPath").path("type").asString()).isEqualTo("DirectoryOrCreate");

        // and the agent reads the variables back into learn mode
        AgentConfig config = configFromEnvironmentOf(container);
        assertThat(config.learn().enabled()).isTrue();
        assertThat(config.learn().namespaces()).containsExactlyInAnyOrder("shop", "pay");
        assertThat(config.learn().workloads()).containsExactly("web");
        assertThat(config.learn().duration()).isEqualTo(java.time.Duration.ofHours(72));
        assertThat(config.learn().alertsFile()).isEqualTo(Path.of("/var/lib/drift-agent/learn/learn.jsonl"));
        assertThat(config.learn().suggestionFile())
                .isEqualTo(Path.of("/var/lib/drift-agent/learn/suggested-policy.yaml"));
    }

    @Test
    void learnModeIsOffByDefaultAndABadDurationIsRefusedAtRendering(@TempDir Path dir) throws IOException {
        JsonNode container = agentContainer(render(t -> { }));
        assertThat(env(container, "DRIFT_LEARN_NAMESPACES")).isEmpty();
        assertThat(mounts(container)).doesNotContainKey("/var/lib/drift-agent/learn");

        Path values = Files.writeString(dir.resolve("bad.yaml"), "learn: {namespaces: [shop], duration: 7d}\n");
        assertThatThrownBy(() -> render(t -> t.withValuesFile(values))).hasMessageContaining("learn.duration");
    }

    @Test
    void aFalcosidekickWebhookIsTheFalcoFormatAndBadWebhookValuesAreRefused() {
        JsonNode container = agentContainer(render(t -> t.set("webhook.url", "http://falcosidekick.falco:2801/")
                .set("webhook.format", "falco").set("webhook.caBundle.secret", "ca")));
        assertThat(env(container, "DRIFT_WEBHOOK_FORMAT").orElseThrow().path("value").asString()).isEqualTo("falco");
        assertThat(env(container, "DRIFT_WEBHOOK_HEADERS")).isEmpty();
        assertThat(mounts(container)).containsEntry("/etc/drift-agent/webhook-ca", "webhook-ca");

        assertThat(refusal(t -> t.set("webhook.format", "falco")))
                .contains("need a webhook: set webhook.url or webhook.urlSecret.name");
        assertThat(refusal(t -> t.set("webhook.url", "http://x/").set("webhook.format", "cef"))).contains("format");
        assertThat(refusal(t -> t.set("webhook.url", "http://x/").set("webhook.headers.Authorization", "a")
                .set("webhook.secretHeaders[0].name", "authorization")
                .set("webhook.secretHeaders[0].secret.name", "s").set("webhook.secretHeaders[0].secret.key", "k")))
                .contains("webhook header authorization is configured twice");
        assertThat(refusal(t -> t.set("webhook.url", "http://x/").set("webhook.secretHeaders[0].name", "Bad Name")
                .set("webhook.secretHeaders[0].secret.name", "s").set("webhook.secretHeaders[0].secret.key", "k")))
                .contains("secretHeaders");
        assertThat(refusal(t -> t.set("webhook.url", "http://x/").set("webhook.caBundle.secret", "a")
                .set("webhook.caBundle.configMap", "b"))).contains("caBundle.configMap and webhook.caBundle.secret");
    }

    @Test
    void withoutAClusterNameWebhookOrBindAddressNoSuchSettingIsPassed() {
        JsonNode container = agentContainer(render(t -> { }));

        assertThat(env(container, "DRIFT_CLUSTER_NAME")).isEmpty();
        assertThat(env(container, "DRIFT_WEBHOOK_URL")).isEmpty();
        assertThat(env(container, "DRIFT_WEBHOOK_TIMEOUT")).isEmpty();
        assertThat(env(container, "DRIFT_CLOUD_ACCOUNT")).isEmpty();
        assertThat(env(container, "DRIFT_HTTP_BIND")).isEmpty();
    }

    @Test
    void theHttpBindAddressIsPassedWhenSet() {
        JsonNode container = agentContainer(render(t -> t.set("http.bindAddress", "::")));

        assertThat(env(container, "DRIFT_HTTP_BIND").orElseThrow().path("value").asString()).isEqualTo("::");
    }

    @Test
    void theAgentStaysOffVirtualKubeletAndFargateNodesEvenWithAnAffinityOfTheUsersOwn() {
        JsonNode defaults = podSpec(render(t -> t.set("affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", 1)
                .set("affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey", "kubernetes.io/hostname")));
        JsonNode pools = podSpec(render(t -> t
                .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key", "pool")
                .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator", "In")
                .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]", "a")
                .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchExpressions[0].key", "pool")
                .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchExpressions[0].operator", "In")
                .set("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchExpressions[0].values[0]", "b")));

        assertThat(defaults.path("affinity").has("podAntiAffinity")).isTrue();
        assertThat(terms(defaults)).hasSize(1);
        assertThat(terms(pools)).hasSize(2);
        for (JsonNode term : List.of(terms(defaults).get(0), terms(pools).get(0), terms(pools).get(1))) {
            assertThat(expressions(term)).contains("type NotIn [virtual-kubelet]",
                    "eks.amazonaws.com/compute-type NotIn [fargate]");
        }
        assertThat(expressions(terms(pools).get(1))).contains("pool In [b]");
    }

    @Test
    void theVirtualNodeExclusionCanBeSwitchedOff() {
        JsonNode spec = podSpec(render(t -> t.set("excludeVirtualNodes", "false")));

        assertThat(spec.has("affinity")).isFalse();
    }

    private static List<JsonNode> terms(JsonNode podSpec) {
        JsonNode terms = podSpec.path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution")
                .path("nodeSelectorTerms");
        return StreamSupport.stream(terms.spliterator(), false).toList();
    }

    private static List<String> expressions(JsonNode term) {
        return StreamSupport.stream(term.path("matchExpressions").spliterator(), false)
                .map(e -> e.path("key").asString() + " " + e.path("operator").asString() + " " + texts(e.path("values")))
                .toList();
    }

    @Test
    void theDefaultPriorityClassIsSystemNodeCriticalAndItsQuotaIsOnlyCreatedWhenAsked() {
        List<JsonNode> defaults = render(t -> { });
        assertThat(podSpec(defaults).path("priorityClassName").asString()).isEqualTo("system-node-critical");
        assertThat(kind(defaults, "ResourceQuota")).isEmpty();

        JsonNode quota = kind(render(valuesFile("gke")), "ResourceQuota").orElseThrow();

        JsonNode expression = quota.path("spec").path("scopeSelector").path("matchExpressions").get(0);
        assertThat(expression.path("scopeName").asString()).isEqualTo("PriorityClass");
        assertThat(texts(expression.path("values"))).containsExactly("system-node-critical");
        assertThat(quota.path("metadata").path("namespace").asString()).isEqualTo("security");
    }

    @Test
    void appArmorIsUnconfinedByDefaultAndTheValueChoosesTheAnnotationTheFieldOrBoth() {
        String annotation = "container.apparmor.security.beta.kubernetes.io/agent";

        List<JsonNode> asAnnotation = render(t -> t.set("appArmor.setAs", "annotation"));
        List<JsonNode> asField = render(t -> t.set("appArmor.setAs", "field"));
        List<JsonNode> asBoth = render(t -> t.set("appArmor.setAs", "both").set("appArmor.profile", "localhost/drift-agent"));
        List<JsonNode> none = render(t -> t.set("appArmor.profile", ""));

        assertThat(podAnnotations(asAnnotation).path(annotation).asString()).isEqualTo("unconfined");
        assertThat(agentContainer(asAnnotation).path("securityContext").has("appArmorProfile")).isFalse();
        assertThat(podAnnotations(asField).has(annotation)).isFalse();
        assertThat(agentContainer(asField).path("securityContext").path("appArmorProfile").path("type").asString())
                .isEqualTo("Unconfined");
        assertThat(podAnnotations(asBoth).path(annotation).asString()).isEqualTo("localhost/drift-agent");
        JsonNode profile = agentContainer(asBoth).path("securityContext").path("appArmorProfile");
        assertThat(profile.path("type").asString()).isEqualTo("Localhost");
        assertThat(profile.path("localhostProfile").asString()).isEqualTo("drift-agent");
        assertThat(podAnnotations(none).has(annotation)).isFalse();
        assertThat(agentContainer(none).path("securityContext").has("appArmorProfile")).isFalse();
    }

    @Test
    void automaticallyTheAppArmorProfileIsSetOneWayOrTheOther() {
        List<JsonNode> documents = render(t -> { });

        boolean annotated = podAnnotations(documents).has("container.apparmor.security.beta.kubernetes.io/agent");
        boolean field = agentContainer(documents).path("securityContext").has("appArmorProfile");
        assertThat(annotated ^ field).as("exactly one of annotation and field").isTrue();
    }

    private static JsonNode podAnnotations(List<JsonNode> documents) {
        return kind(documents, "DaemonSet").orElseThrow().path("spec").path("template").path("metadata").path("annotations");
    }

    @Test
    void bottlerocketValuesLabelTheAgentSuperT() {
        JsonNode security = agentContainer(render(valuesFile("eks-bottlerocket"))).path("securityContext");

        assertThat(security.path("seLinuxOptions").path("type").asString()).isEqualTo("super_t");
        assertThat(agentContainer(render(t -> { })).path("securityContext").has("seLinuxOptions")).isFalse();
    }

    @Test
    void aRuntimePresetMovesStateAndRootTogetherAndTheRootStaysAtItsHostPath() {
        List<JsonNode> k3s = render(t -> t.set("containerRuntime.preset", "k3s"));
        List<JsonNode> custom = render(t -> t.set("containerRuntime.preset", "rke2").set("containerRuntime.rootDir", "/data/containerd"));

        assertThat(hostPath(k3s, "runtime-state")).isEqualTo("/run/k3s/containerd");
        assertThat(hostPath(k3s, "runtime-root")).isEqualTo("/var/lib/rancher/k3s/agent/containerd");
        assertThat(mounts(agentContainer(k3s))).containsEntry("/run/containerd", "runtime-state")
                .containsEntry("/var/lib/rancher/k3s/agent/containerd", "runtime-root");
        assertThat(hostPath(custom, "runtime-state")).isEqualTo("/run/k3s/containerd");
        assertThat(hostPath(custom, "runtime-root")).isEqualTo("/data/containerd");
        assertThat(mounts(agentContainer(custom))).containsEntry("/data/containerd", "runtime-root");
        assertThat(refusal(t -> t.set("containerRuntime.preset", "crio"))).contains("containerRuntime.preset");
    }

    private static String hostPath(List<JsonNode> documents, String volume) {
        return named(podSpec(documents).path("volumes"), volume).orElseThrow().path("hostPath").path("path").asString();
    }

    @Test
    void extraEnvArgsVolumesAndMountsAreAddedToThePod() {
        List<JsonNode> documents = render(t -> t.set("extraEnv[0].name", "DRIFT_SHUTDOWN_TIMEOUT")
                .set("extraEnv[0].value", "10s").set("extraArgs[0]", "--source").set("extraArgs[1]", "fanotify")
                .set("extraVolumes[0].name", "btfhub").set("extraVolumes[0].hostPath.path", "/opt/btf")
                .set("extraVolumeMounts[0].name", "btfhub").set("extraVolumeMounts[0].mountPath", "/opt/btf")
                .set("podAnnotations.team", "security").set("podLabels.tier", "node"));

        JsonNode container = agentContainer(documents);
        assertThat(env(container, "DRIFT_SHUTDOWN_TIMEOUT").orElseThrow().path("value").asString()).isEqualTo("10s");
        assertThat(texts(container.path("args"))).containsExactly("run", "--source", "fanotify");
        assertThat(hostPath(documents, "btfhub")).isEqualTo("/opt/btf");
        assertThat(mounts(container)).containsEntry("/opt/btf", "btfhub");
        assertThat(podAnnotations(documents).path("team").asString()).isEqualTo("security");
        JsonNode template = kind(documents, "DaemonSet").orElseThrow().path("spec").path("template");
        assertThat(template.path("metadata").path("labels").path("tier").asString()).isEqualTo("node");
    }

    /**
     * helm-java renders no hooks, and the test pod is one: render a copy of the chart whose test template carries a
     * plain annotation instead of the hook's.
     */
    private static List<JsonNode> renderWithTestHook(Path copy, Consumer<TemplateCommand> options) throws IOException {
        copyTree(CHART, copy);
        Path template = copy.resolve("templates/tests/test-alert.yaml");
        Files.writeString(template, Files.readString(template).replace("helm.sh/hook: test", "rendered-hook: test"));
        return render(copy, options);
    }

    @Test
    void theHelmTestDriftsInItsOwnPodAndChecksTheAgentOfItsNodeThroughANodeLocalService(@TempDir Path copy)
            throws IOException {
        assertThat(Files.readString(CHART.resolve("templates/tests/test-alert.yaml"))).contains("helm.sh/hook: test");

        List<JsonNode> documents = renderWithTestHook(copy, t -> { });

        JsonNode service = kind(documents, "Service").orElseThrow();
        assertThat(service.path("spec").path("internalTrafficPolicy").asString()).isEqualTo("Local");
        JsonNode test = kind(documents, "Pod").orElseThrow();
        assertThat(test.path("metadata").path("annotations").path("rendered-hook").asString()).isEqualTo("test");
        JsonNode selector = kind(documents, "DaemonSet").orElseThrow().path("spec").path("selector").path("matchLabels");
        assertThat(test.path("metadata").path("labels").path("app.kubernetes.io/name").asString())
                .as("the DaemonSet must not adopt the test pod, nor the Service route to it")
                .isNotEqualTo(selector.path("app.kubernetes.io/name").asString());
        JsonNode container = test.path("spec").path("containers").get(0);
        String script = container.path("args").get(0).asString();
        assertThat(script).contains("cp /bin/busybox /tmp/drift-test/sleep && /tmp/drift-test/sleep", "drift_alerts_total");
        assertThat(env(container, "METRICS_URL").orElseThrow().path("value").asString())
                .isEqualTo("http://drift-drift-agent.security.svc:9742/metrics");
        assertThat(test.path("spec").path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(test.path("spec").path("affinity")).isEqualTo(podSpec(documents).path("affinity"));
    }

    @Test
    void theHelmTestRunsInTheNamespaceItIsGiven(@TempDir Path copy) throws IOException {
        JsonNode test = kind(renderWithTestHook(copy, t -> t.set("tests.namespace", "default")), "Pod").orElseThrow();

        assertThat(test.path("metadata").path("namespace").asString()).isEqualTo("default");
    }

    /** The helm test pod's script, run by busybox's sh with only busybox's applets on the PATH, as in the pod. */
    private static ScriptRun runTestScript(Path copy, Path applets, String metricsUrl, int timeoutSeconds)
            throws IOException, InterruptedException {
        JsonNode container = kind(renderWithTestHook(copy, t -> { }), "Pod").orElseThrow()
                .path("spec").path("containers").get(0);
        assertThat(texts(container.path("command"))).containsExactly("sh", "-c");
        Path busybox = Path.of("/bin/busybox");
        assertThat(Files.isExecutable(busybox)).as("busybox (busybox-static, scripts/host-setup.sh)").isTrue();
        for (String applet : List.of("sh", "wget", "awk", "grep", "seq", "sleep", "mkdir", "cp", "timeout", "echo")) {
            Files.createSymbolicLink(applets.resolve(applet), busybox);
        }
        ProcessBuilder sh = new ProcessBuilder(applets.resolve("sh").toString(), "-c",
                container.path("args").get(0).asString()).redirectErrorStream(true);
        sh.environment().clear();
        sh.environment().putAll(Map.of("PATH", applets.toString(), "NODE_NAME", "node-1", "POD_NAMESPACE", "default",
                "METRICS_URL", metricsUrl, "TIMEOUT_SECONDS", String.valueOf(timeoutSeconds),
                "AGENT_PODS", "kubectl -n security get pods"));
        Process process = sh.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(timeoutSeconds + 30L, TimeUnit.SECONDS)).isTrue();
        return new ScriptRun(process.exitValue(), output);
    }

    private record ScriptRun(int exitCode, String output) {
    }

    /** The script drifts where a test pod would, in /tmp/drift-test: on this machine that is the host's /tmp. */
    private static void removeDriftTestFiles() throws IOException {
        Files.deleteIfExists(Path.of("/tmp/drift-test/sleep"));
        Files.deleteIfExists(Path.of("/tmp/drift-test"));
    }

    /**
     * A stand-in for the agent's /metrics: the real exposition of the agent's meters (DriftMetrics on a Prometheus
     * registry), where each scrape after the first may record what the agent would have seen in between.
     */
    private static HttpServer metricsServer(DriftMetrics metrics,
                                                                   Runnable betweenScrapes) throws IOException {
        HttpServer server = HttpServer.create(
                new InetSocketAddress("127.0.0.1", 0), 8);
        AtomicInteger scrapes = new AtomicInteger();
        server.createContext("/metrics", exchange -> {
            if (scrapes.getAndIncrement() > 0) {
                betweenScrapes.run();
            }
            byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", DriftMetrics.contentType());
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }

    @Test
    void theHelmTestScriptPassesWhenTheAgentCountsANewAlertAfterItsDrift(@TempDir Path copy, @TempDir Path applets)
            throws Exception {
        var metrics = DriftMetrics.create();
        metrics.alertEmitted(Alert.AlertType.BinaryDrift, 3);
        var alerted = new AtomicBoolean();
        var server = metricsServer(metrics, () -> {
            if (Files.isExecutable(Path.of("/tmp/drift-test/sleep")) && alerted.compareAndSet(false, true)) {
                metrics.alertEmitted(Alert.AlertType.BinaryDrift);
            }
        });
        try {
            ScriptRun run = runTestScript(copy, applets,
                    "http://127.0.0.1:" + server.getAddress().getPort() + "/metrics", 20);

            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(run.output()).contains("counted 3 drift alerts", "PASS: the agent on node node-1 counted a new drift alert (3 -> 4)");
        } finally {
            server.stop(0);
            removeDriftTestFiles();
        }
    }

    @Test
    void theHelmTestScriptFailsAndSaysThePolicyIgnoredTheExecWhenNoAlertComes(@TempDir Path copy, @TempDir Path applets)
            throws Exception {
        var metrics = DriftMetrics.create();
        var ignored = Counter.builder("drift.verdicts").tag("action", "ignore")
                .tag("kind", "ADDED").register(metrics.registry());
        var server = metricsServer(metrics, ignored::increment);
        try {
            ScriptRun run = runTestScript(copy, applets,
                    "http://127.0.0.1:" + server.getAddress().getPort() + "/metrics", 4);

            assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
            assertThat(run.output()).contains("FAIL: no new drift alert from the agent on node node-1 within 4s",
                    "drift_verdicts_total{action=\"ignore\",kind=\"ADDED\"}",
                    "the policy ignores namespace default");
        } finally {
            server.stop(0);
            removeDriftTestFiles();
        }
    }

    @Test
    void theClusterRoleGrantsExactlyReadingPodsGettingNodesAndWritingEvents() {
        List<JsonNode> documents = render(t -> { });
        JsonNode role = kind(documents, "ClusterRole").orElseThrow();

        List<String> rules = new ArrayList<>();
        role.path("rules").forEach(rule -> rules.add(texts(rule.path("apiGroups")) + " " + texts(rule.path("resources"))
                + " " + texts(rule.path("verbs"))));
        assertThat(rules).containsExactly(
                "[] [pods] [get, list, watch]",
                "[] [nodes] [get]",
                "[] [events] [create, patch]",
                "[drift-agent.io] [driftpolicies] [get, list, watch]",
                "[drift-agent.io] [driftpolicies/status] [update]");
        JsonNode binding = kind(documents, "ClusterRoleBinding").orElseThrow();
        assertThat(binding.path("subjects").get(0).path("namespace").asString()).isEqualTo("security");
    }

    // --- helpers: Helm's merge of values files, a tree copy, and the walk over a typed Kubernetes object

    private static JsonNode merge(ObjectNode base, JsonNode overlay) {
        for (Map.Entry<String, JsonNode> entry : overlay.properties()) {
            JsonNode existing = base.get(entry.getKey());
            if (existing instanceof ObjectNode object && entry.getValue().isObject()) {
                merge(object, entry.getValue());
            } else {
                base.set(entry.getKey(), entry.getValue());
            }
        }
        return base;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.sorted(Comparator.naturalOrder()).toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }

    /** Collects, by path, every field fabric8's model did not know (it keeps them in additionalProperties). */
    private static void unknownFields(Object node, String path, List<String> unknown) {
        if (node == null) {
            return;
        }
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                unknownFields(list.get(i), path + "[" + i + "]", unknown);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, unknown));
            return;
        }
        if (!node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException(path + "." + getter.getName(), e);
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> unknown.add(path + "." + k));
                }
            } else {
                unknownFields(value, path + "." + getter.getName().substring(3), unknown);
            }
        }
    }
}
