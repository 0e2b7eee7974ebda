package io.driftagent.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.driftagent.policy.model.CloudProvider;
import io.driftagent.reporter.json.AlertFormat;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final Map<String, String> IN_KUBERNETES = Map.of("NODE_NAME", "aks-nodepool1-0");
    /** Every variable kubelet's service links give a pod for `Service drift-agent`, 10.96.0.10, port http 9742/TCP. */
    private static final Map<String, String> SERVICE_LINKS = Map.of(
            "DRIFT_AGENT_SERVICE_HOST", "10.96.0.10",
            "DRIFT_AGENT_SERVICE_PORT", "9742",
            "DRIFT_AGENT_SERVICE_PORT_HTTP", "9742",
            "DRIFT_AGENT_PORT", "tcp://10.96.0.10:9742",
            "DRIFT_AGENT_PORT_9742_TCP", "tcp://10.96.0.10:9742",
            "DRIFT_AGENT_PORT_9742_TCP_PROTO", "tcp",
            "DRIFT_AGENT_PORT_9742_TCP_PORT", "9742",
            "DRIFT_AGENT_PORT_9742_TCP_ADDR", "10.96.0.10");

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(() -> "my-laptop");

    @Test
    void defaultsApplyWhenNothingIsConfigured() throws Exception {
        AgentConfig config = loader.load(Optional.empty(), IN_KUBERNETES, Map.of());

        assertThat(config).isEqualTo(new AgentConfig("aks-nodepool1-0", null, null, null, null, "-",
                SourceChoice.AUTO, new AgentConfig.Http("0.0.0.0", 9742), false, AgentConfig.Queues.DEFAULTS,
                List.of(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1)),
                null, true, Duration.ofSeconds(60), AgentConfig.Blocking.DEFAULTS, Duration.ofSeconds(5), LogLevel.INFO));
        assertThat(config.alertsToStdout()).isTrue();
        assertThat(config.blocking().onTimeout()).as("a late decision under a blocking policy denies")
                .isEqualTo(TimeoutAction.DENY);
    }

    @Test
    void everySettingIsReadFromTheFile() throws Exception {
        Path file = yaml("""
                node: {name: node-7}
                cluster: {name: prod-eu}
                cloud: {provider: aws, account: "123456789012"}
                policy: {file: /etc/drift-agent/policy/policy.yaml}
                alerts: {target: /var/log/drift/alerts.jsonl}
                source: fanotify
                http: {bind: 127.0.0.1, port: 0}
                standalone: true
                queues: {source: 100, stage: 10, parking: 0, alerts: 5}
                metadata: {retries: [50ms, 2s]}
                webhook: {url: "https://hooks.example/drift", secretFile: /secrets/hmac, timeout: 2s}
                kubernetesEvents: {enabled: false}
                dedup: {window: 0s}
                blocking: {decisionTimeout: 100ms, onTimeout: deny}
                shutdown: {timeout: 1m}
                log: {level: debug}
                metrics: {stageHistograms: true}
                """);

        AgentConfig config = loader.load(Optional.of(file), Map.of(), Map.of());

        assertThat(config).isEqualTo(new AgentConfig("node-7", "prod-eu", CloudProvider.AWS, "123456789012",
                Path.of("/etc/drift-agent/policy/policy.yaml"), "/var/log/drift/alerts.jsonl", SourceChoice.FANOTIFY,
                new AgentConfig.Http("127.0.0.1", 0), true, new AgentConfig.Queues(100, 10, 0, 5),
                List.of(Duration.ofMillis(50), Duration.ofSeconds(2)),
                new AgentConfig.Webhook(URI.create("https://hooks.example/drift"), Path.of("/secrets/hmac"),
                        Duration.ofSeconds(2)),
                false, Duration.ZERO, new AgentConfig.Blocking(Duration.ofMillis(100), TimeoutAction.DENY),
                Duration.ofMinutes(1), LogLevel.DEBUG, true));
    }

    @Test
    void theSystemCallTracepointHooksAreOnByDefaultAndEachCanBeTurnedOff() throws Exception {
        assertThat(loader.load(Optional.empty(), IN_KUBERNETES, Map.of()).kernelHooks())
                .isEqualTo(AgentConfig.KernelHooks.ALL);

        Path file = yaml("ebpf: {libraryDrift: false}\n");
        assertThat(loader.load(Optional.of(file), IN_KUBERNETES, Map.of()).kernelHooks())
                .isEqualTo(new AgentConfig.KernelHooks(false, true));

        Map<String, String> env = new java.util.HashMap<>(IN_KUBERNETES);
        env.put("DRIFT_EBPF_WRITE_TRACKING", "false");
        assertThat(loader.load(Optional.empty(), env, Map.of()).kernelHooks())
                .isEqualTo(new AgentConfig.KernelHooks(true, false));
    }

    @Test
    void flagsOverrideTheEnvironmentWhichOverridesTheFileWhichOverridesDefaults() throws Exception {
        Path file = yaml("""
                http: {port: 1111}
                source: ebpf
                alerts: {target: /from/file}
                cluster: {name: from-file}
                """);
        Map<String, String> env = Map.of("NODE_NAME", "n", "DRIFT_HTTP_PORT", "2222", "DRIFT_SOURCE", "fanotify");
        Map<Setting, String> flags = Map.of(Setting.HTTP_PORT, "3333");

        AgentConfig config = loader.load(Optional.of(file), env, flags);

        assertThat(config.http().port()).isEqualTo(3333);
        assertThat(config.source()).isEqualTo(SourceChoice.FANOTIFY);
        assertThat(config.alertsTarget()).isEqualTo("/from/file");
        assertThat(config.clusterName()).isEqualTo("from-file");
        assertThat(config.http().bind()).isEqualTo("0.0.0.0");
    }

    @Test
    void driftNodeNameWinsOverTheDownwardApiVariable() throws Exception {
        AgentConfig config = loader.load(Optional.empty(), Map.of("NODE_NAME", "api", "DRIFT_NODE_NAME", "explicit"), Map.of());

        assertThat(config.nodeName()).isEqualTo("explicit");
    }

    @Test
    void standaloneDefaultsTheNodeNameToTheHostName() throws Exception {
        AgentConfig config = loader.load(Optional.empty(), Map.of(), Map.of(Setting.STANDALONE, "true"));

        assertThat(config.nodeName()).isEqualTo("my-laptop");
        assertThat(config.standalone()).isTrue();
    }

    @Test
    void listsFromTheEnvironmentAreCommaSeparatedAndEmptyMeansNone() throws Exception {
        assertThat(loader.load(Optional.empty(), env("DRIFT_METADATA_RETRIES", "10ms, 20ms"), Map.of()).metadataRetries())
                .containsExactly(Duration.ofMillis(10), Duration.ofMillis(20));
        assertThat(loader.load(Optional.empty(), env("DRIFT_METADATA_RETRIES", ""), Map.of()).metadataRetries())
                .isEmpty();
    }

    @Test
    void aCommaSeparatedListInTheFileIsAList() throws Exception {
        AgentConfig config = loader.load(Optional.of(yaml("metadata: {retries: \"10ms, 1s\"}\n")), IN_KUBERNETES, Map.of());

        assertThat(config.metadataRetries()).containsExactly(Duration.ofMillis(10), Duration.ofSeconds(1));
    }

    @Test
    void environmentVariablesAreDerivedFromKeys() {
        assertThat(Setting.WEBHOOK_SECRET_FILE.envName()).isEqualTo("DRIFT_WEBHOOK_SECRET_FILE");
        assertThat(Setting.KUBERNETES_EVENTS.envName()).isEqualTo("DRIFT_KUBERNETES_EVENTS_ENABLED");
        assertThat(Setting.BLOCKING_ON_TIMEOUT.envName()).isEqualTo("DRIFT_BLOCKING_ON_TIMEOUT");
        assertThat(Setting.SOURCE.envName()).isEqualTo("DRIFT_SOURCE");
    }

    @Test
    void otherEnvironmentVariablesAndTheConfigFileVariableAreIgnored() throws Exception {
        AgentConfig config = loader.load(Optional.empty(),
                Map.of("NODE_NAME", "n", "PATH", "/bin", "DRIFT_CONFIG", "/etc/x.yaml", "HTTP_PORT", "1"), Map.of());

        assertThat(config.http().port()).isEqualTo(9742);
    }

    @Test
    void anUnknownKeyInTheFileIsAnErrorNamingItsFullPath() throws IOException {
        assertProblems(yaml("http: {prot: 80}\ncolour: blue\n"), Map.of(),
                "http.prot: unknown key (file " + dir.resolve("agent.yaml") + ")",
                "colour: unknown key (file " + dir.resolve("agent.yaml") + ")");
    }

    @Test
    void aSectionGivenAValueAndASettingGivenAMappingAreErrors() throws IOException {
        Path file = yaml("http: 9090\nsource: {kind: ebpf}\n");
        assertProblems(file, Map.of(),
                "http: expected a mapping, got '9090' (file " + file + ")",
                "source: expected a single value, got a mapping (file " + file + ")");
    }

    @Test
    void malformedYamlIsReportedWithItsLine() throws IOException {
        ConfigException e = failure(yaml("http:\n  port: [1,\n"), IN_KUBERNETES, Map.of());

        assertThat(e.problems()).singleElement().asString().contains("not valid YAML").contains("line");
    }

    @Test
    void aDuplicateKeyIsAnError() throws IOException {
        ConfigException e = failure(yaml("source: ebpf\nsource: fanotify\n"), IN_KUBERNETES, Map.of());

        assertThat(e.problems()).singleElement().asString().contains("not valid YAML").contains("source");
    }

    @Test
    void aTopLevelThatIsNotAMappingIsAnError() throws IOException {
        Path file = yaml("- a\n- b\n");
        assertProblems(file, Map.of(), file + ": the top level must be a mapping of settings");
    }

    @Test
    void aMissingFileIsAnError() {
        ConfigException e = failure(dir.resolve("absent.yaml"), IN_KUBERNETES, Map.of());

        assertThat(e.problems()).singleElement().asString().startsWith(dir.resolve("absent.yaml") + ": cannot read");
    }

    @Test
    void anEmptyFileConfiguresNothing() throws Exception {
        assertThat(loader.load(Optional.of(yaml("")), IN_KUBERNETES, Map.of()).source()).isEqualTo(SourceChoice.AUTO);
    }

    @Test
    void theServiceLinksKubeletInjectsForAServiceNamedDriftAgentAreIgnoredWithOneWarningNamingThemAll() throws Exception {
        // given: what kubelet sets for `Service drift-agent` (ClusterIP 10.96.0.10, port "http" 9742/TCP), as
        // pkg/kubelet/envvars builds it: <SVC>_SERVICE_HOST/_PORT/_PORT_<NAME> and the Docker-link-style <SVC>_PORT*
        Map<String, String> env = new java.util.HashMap<>(IN_KUBERNETES);
        env.putAll(SERVICE_LINKS);
        List<String> warnings = new java.util.ArrayList<>();

        // when
        AgentConfig config = new ConfigLoader(() -> "h", warnings::add).load(Optional.empty(), env, Map.of());

        // then: the agent starts with its defaults, and says once which variables it did not use
        assertThat(config.http()).isEqualTo(new AgentConfig.Http("0.0.0.0", 9742));
        assertThat(warnings).singleElement().asString()
                .startsWith("ignoring 8 environment variables that name no setting: ")
                .contains(String.join(", ", new java.util.TreeSet<>(SERVICE_LINKS.keySet())));
    }

    @Test
    void aMisspeltDriftVariableIsIgnoredWithAWarningButAKnownOneWithABadValueStillFails() throws Exception {
        List<String> warnings = new java.util.ArrayList<>();
        ConfigLoader warned = new ConfigLoader(() -> "h", warnings::add);

        AgentConfig config = warned.load(Optional.empty(), env("DRIFT_HTTP_PROT", "80"), Map.of());

        assertThat(config.http().port()).isEqualTo(9742);
        assertThat(warnings).singleElement().asString()
                .startsWith("ignoring 1 environment variable that name no setting: DRIFT_HTTP_PROT (");
        Map<String, String> both = new java.util.HashMap<>(SERVICE_LINKS);
        both.put("NODE_NAME", "n");
        both.put("DRIFT_HTTP_PORT", "tcp://10.96.0.10:9742");
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> warned.load(Optional.empty(), both, Map.of()));
        assertThat(e.problems()).containsExactly(
                "http.port: 'tcp://10.96.0.10:9742' is not an integer (environment DRIFT_HTTP_PORT)");
    }

    @Test
    void noWarningWhenEveryDriftVariableIsASetting() throws Exception {
        List<String> warnings = new java.util.ArrayList<>();

        new ConfigLoader(() -> "h", warnings::add).load(Optional.empty(),
                Map.of("NODE_NAME", "n", "DRIFT_SOURCE", "ebpf", "DRIFT_CONFIG", "", "DRIFT_HTTP_BIND", "127.0.0.1"), Map.of());

        assertThat(warnings).isEmpty();
    }

    @Test
    void anUnknownKeyInTheFileStaysAnErrorWhileTheSameNameInTheEnvironmentIsOnlyAWarning() throws IOException {
        Path file = yaml("agent: {port: 'tcp://10.96.0.10:9742'}\n");
        List<String> warnings = new java.util.ArrayList<>();

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(() -> "h", warnings::add)
                .load(Optional.of(file), env("DRIFT_AGENT_PORT", "tcp://10.96.0.10:9742"), Map.of()));

        assertThat(e.problems()).containsExactly("agent: unknown key (file " + file + ")");
        assertThat(warnings).singleElement().asString().contains("DRIFT_AGENT_PORT");
    }

    @Test
    void badValuesAreErrorsNamingTheKeyTheValueAndTheOrigin() {
        assertEnvProblem("DRIFT_HTTP_PORT", "http", "http.port: 'http' is not an integer (environment DRIFT_HTTP_PORT)");
        assertEnvProblem("DRIFT_HTTP_PORT", "70000", "http.port: '70000' must be between 0 and 65535 (environment DRIFT_HTTP_PORT)");
        assertEnvProblem("DRIFT_QUEUES_STAGE", "0", "queues.stage: '0' must be between 1 and 1048576 (environment DRIFT_QUEUES_STAGE)");
        assertEnvProblem("DRIFT_STANDALONE", "yes", "standalone: 'yes' must be true or false (environment DRIFT_STANDALONE)");
        assertEnvProblem("DRIFT_METRICS_STAGE_HISTOGRAMS", "on", "metrics.stageHistograms: 'on' must be true or false (environment DRIFT_METRICS_STAGE_HISTOGRAMS)");
        assertEnvProblem("DRIFT_SOURCE", "kprobe", "source: 'kprobe' must be one of [auto, ebpf, fanotify] (environment DRIFT_SOURCE)");
        assertEnvProblem("DRIFT_CLOUD_PROVIDER", "oracle", "cloud.provider: 'oracle' must be one of [azure, aws, gcp] (environment DRIFT_CLOUD_PROVIDER)");
        assertEnvProblem("DRIFT_BLOCKING_ON_TIMEOUT", "maybe", "blocking.onTimeout: 'maybe' must be one of [allow, deny] (environment DRIFT_BLOCKING_ON_TIMEOUT)");
        assertEnvProblem("DRIFT_LOG_LEVEL", "loud", "log.level: 'loud' must be one of [trace, debug, info, warn, error] (environment DRIFT_LOG_LEVEL)");
        assertEnvProblem("DRIFT_WEBHOOK_TIMEOUT", "5 seconds", "webhook.timeout: '5 seconds' is not a duration (a whole number with ms, s, m or h: 250ms, 5s) (environment DRIFT_WEBHOOK_TIMEOUT)");
        assertEnvProblem("DRIFT_SHUTDOWN_TIMEOUT", "0s", "shutdown.timeout: '0s' must be greater than zero (environment DRIFT_SHUTDOWN_TIMEOUT)");
        assertEnvProblem("DRIFT_HTTP_BIND", "example.com", "http.bind: 'example.com' must be an IP address literal (0.0.0.0, 127.0.0.1, ::) or localhost (environment DRIFT_HTTP_BIND)");
        assertEnvProblem("DRIFT_WEBHOOK_URL", "ftp://x/y", "webhook.url: 'ftp://x/y' must be an http:// or https:// URL with a host (environment DRIFT_WEBHOOK_URL)");
        assertEnvProblem("DRIFT_WEBHOOK_URL", "http://bad host/", "webhook.url: 'http://bad host/' is not a URL (environment DRIFT_WEBHOOK_URL)");
        assertEnvProblem("DRIFT_WEBHOOK_SECRET_FILE", "/s", "webhook.secretFile: '/s' set without webhook.url (environment DRIFT_WEBHOOK_SECRET_FILE)");
        assertEnvProblem("DRIFT_METADATA_RETRIES", "1s,500ms", "metadata.retries: '1s,500ms' must be ascending (offsets from the first miss) (environment DRIFT_METADATA_RETRIES)");
        assertEnvProblem("DRIFT_METADATA_RETRIES", "1s,soon", "metadata.retries: '1s,soon' must be positive durations like 100ms, 1s (environment DRIFT_METADATA_RETRIES)");
        assertEnvProblem("DRIFT_CLUSTER_NAME", " ", "cluster.name: ' ' must not be empty (environment DRIFT_CLUSTER_NAME)");
        assertEnvProblem("DRIFT_POLICY_FILE", "a\0b", "policy.file: 'a\0b' is not a valid path (environment DRIFT_POLICY_FILE)");
        assertEnvProblem("DRIFT_NODE_NAME", "two words", "node.name: 'two words' must be at most 253 printable characters without spaces (environment DRIFT_NODE_NAME)");
    }

    @Test
    void webhookOutputsAreReadFromTheFileWithHeadersAsAMapping() throws Exception {
        Path file = yaml("""
                alerts: {format: falco}
                webhook:
                  url: https://hec.example:8088/services/collector/event
                  headers:
                    Authorization: "Splunk {{file:/etc/drift-agent/webhook-headers/hec-token}}"
                    X-Source: drift-agent
                  bodyTemplate: '{"host": {{node}}, "event": {{alert}}}'
                  caFile: /etc/drift-agent/webhook-ca/ca.crt
                """);

        AgentConfig config = loader.load(Optional.of(file), IN_KUBERNETES, Map.of());

        assertThat(config.alertsFormat()).isEqualTo(AlertFormat.FALCO);
        assertThat(config.webhook()).isEqualTo(new AgentConfig.Webhook(
                URI.create("https://hec.example:8088/services/collector/event"), null, Duration.ofSeconds(5),
                AlertFormat.DRIFT, List.of("Authorization: Splunk {{file:/etc/drift-agent/webhook-headers/hec-token}}",
                        "X-Source: drift-agent"), "{\"host\": {{node}}, \"event\": {{alert}}}",
                Path.of("/etc/drift-agent/webhook-ca/ca.crt")));
    }

    @Test
    void webhookHeadersFromTheEnvironmentAreOneLineEachAndTheFormatIsAChoice() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(IN_KUBERNETES);
        env.put("DRIFT_WEBHOOK_URL", "http://falcosidekick.falco:2801/");
        env.put("DRIFT_WEBHOOK_FORMAT", "falco");
        env.put("DRIFT_WEBHOOK_HEADERS", "Authorization: Bearer {{file:/t/token}}\n\nX-Env: prod\n");

        AgentConfig config = loader.load(Optional.empty(), env, Map.of());

        assertThat(config.webhook().format()).isEqualTo(AlertFormat.FALCO);
        assertThat(config.webhook().headers()).containsExactly("Authorization: Bearer {{file:/t/token}}", "X-Env: prod");
        assertThat(config.alertsFormat()).isEqualTo(AlertFormat.DRIFT);
        assertThat(config.webhook().toString()).doesNotContain("{{file:/t/token}}");
    }

    @Test
    void badWebhookOutputSettingsAreErrorsNamingTheFieldButNotTheSecret() throws IOException {
        Map<String, String> env = new java.util.HashMap<>(IN_KUBERNETES);
        env.put("DRIFT_WEBHOOK_URL", "https://x.example/");
        env.put("DRIFT_WEBHOOK_HEADERS", "Authorization Bearer inline-s3cret\nHost: x\nX-A: 1\nx-a: 2");
        env.put("DRIFT_WEBHOOK_BODY_TEMPLATE", "{\"p\": {{drift.paht}}}");
        env.put("DRIFT_WEBHOOK_FORMAT", "falco");
        env.put("DRIFT_ALERTS_FORMAT", "cef");

        ConfigException e = failure(null, env, Map.of());

        assertThat(e.problems()).hasSize(6);
        assertThat(e.problems()).contains("alerts.format: 'cef' must be one of [drift, falco] (environment DRIFT_ALERTS_FORMAT)");
        assertThat(e.problems()).contains(
                "webhook.headers: line 1: expected 'Name: value', got no header name before ':' (environment DRIFT_WEBHOOK_HEADERS)",
                "webhook.headers: line 2: header Host is set by the agent or the HTTP client and cannot be configured (environment DRIFT_WEBHOOK_HEADERS)",
                "webhook.headers: header x-a is configured twice (environment DRIFT_WEBHOOK_HEADERS)",
                "webhook.format: cannot be combined with webhook.bodyTemplate (put {{falco}} or {{alert}} in the template)");
        assertThat(e.problems()).anySatisfy(p -> assertThat(p)
                .startsWith("webhook.bodyTemplate: unknown placeholder {{drift.paht}} at offset 6; known: ")
                .endsWith("(environment DRIFT_WEBHOOK_BODY_TEMPLATE)"));
        assertThat(e.getMessage()).doesNotContain("inline-s3cret");
        assertProblems(yaml("webhook: {url: 'https://x.example/', headers: {X-Empty: null, X-Map: {a: 1}}}\n"), Map.of(),
                "webhook.headers.X-Empty: expected the header's value as text (file " + dir.resolve("agent.yaml") + ")",
                "webhook.headers.X-Map: expected the header's value as text (file " + dir.resolve("agent.yaml") + ")");
        assertEnvProblem("DRIFT_WEBHOOK_HEADERS", "X-Key: {{file:/k}}",
                "webhook.headers: set without webhook.url (environment DRIFT_WEBHOOK_HEADERS)");
        assertEnvProblem("DRIFT_WEBHOOK_CA_FILE", "/ca.pem",
                "webhook.caFile: '/ca.pem' set without webhook.url (environment DRIFT_WEBHOOK_CA_FILE)");
    }

    @Test
    void aBadFlagIsNamedAsAFlag() {
        ConfigException e = failure(null, IN_KUBERNETES, Map.of(Setting.HTTP_PORT, "-1"));

        assertThat(e.problems()).containsExactly("http.port: '-1' must be between 0 and 65535 (flag)");
    }

    @Test
    void theNodeNameIsRequiredOutsideStandaloneMode() {
        ConfigException e = failure(null, Map.of(), Map.of());

        assertThat(e.problems()).containsExactly(
                "node.name: required outside standalone mode: set NODE_NAME from the downward API (spec.nodeName)");
    }

    @Test
    void everyProblemIsReportedAtOnce() throws IOException {
        ConfigException e = failure(yaml("http: {port: x}\nbogus: 1\n"), Map.of("DRIFT_SOURCE", "z"), Map.of());

        assertThat(e.problems()).hasSize(4);
        assertThat(e.getMessage()).contains("http.port").contains("bogus").contains("source").contains("node.name");
    }

    private void assertEnvProblem(String name, String value, String expected) {
        Map<String, String> env = new java.util.HashMap<>(IN_KUBERNETES);
        env.put(name, value);
        assertThat(failure(null, env, Map.of()).problems()).as(name + "=" + value).containsExactly(expected);
    }

    private void assertProblems(Path file, Map<Setting, String> flags, String... expected) {
        assertThat(failure(file, IN_KUBERNETES, flags).problems()).containsExactlyInAnyOrder(expected);
    }

    private ConfigException failure(Path file, Map<String, String> env, Map<Setting, String> flags) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> loader.load(Optional.ofNullable(file), env, flags));
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e;
    }

    private static Map<String, String> env(String name, String value) {
        return Map.of("NODE_NAME", "n", name, value);
    }

    private Path yaml(String text) throws IOException {
        return Files.writeString(dir.resolve("agent.yaml"), text);
    }
}
