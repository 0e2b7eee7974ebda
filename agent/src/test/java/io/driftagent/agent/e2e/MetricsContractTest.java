package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.metadata.kubernetes.CrudApiServer;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metric tables of {@code docs/alerts.md} are the public contract: every metric they name exists in the running
 * agent's {@code /metrics}, with exactly the documented label keys and every documented label value. The tables are
 * parsed, so the doc and the code cannot drift apart silently. Rows marked "Kubernetes mode only" are not checked
 * by the contract test (it runs standalone); the series count is checked in both modes, Kubernetes mode against
 * fabric8's mock API server. Needs root (the exec source).
 */
@Tag(TestTiers.E2E)
class MetricsContractTest {
    private static final Path ALERTS_DOC = Path.of("..", "docs", "alerts.md").toAbsolutePath().normalize();
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s", Pattern.MULTILINE);
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    @TempDir
    Path dir;

    private RunningAgent agent;
    private CrudApiServer api;

    /** One documented metric: its name, label keys and, per key, the values the doc lists (may be empty). */
    record Documented(String name, Set<String> labels, Map<String, Set<String>> values, String row) {
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (api != null) {
            api.server().destroy();
        }
    }

    @Test
    void everyMetricInTheAlertsDocExistsWithItsDocumentedLabels() throws Exception {
        // given the running agent (standalone, with a webhook so that its meters exist)
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "apiVersion: drift.agent/v1\nkind: DriftPolicy\n"
                + "rules: []\ndefaultRule: {action: alert}\n");
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.STANDALONE, "true");
        flags.put(Setting.SOURCE, "fanotify");
        flags.put(Setting.POLICY_FILE, policy.toString());
        flags.put(Setting.ALERTS_TARGET, dir.resolve("alerts.jsonl").toString());
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        flags.put(Setting.WEBHOOK_URL, "http://127.0.0.1:9/alerts");
        agent = RunningAgent.start(flags, config -> {
            throw new AssertionError("standalone: no Kubernetes client");
        });
        assertThat(agent.awaitReady(Duration.ofSeconds(60)).status()).isEqualTo(200);

        // when /metrics is scraped and the doc's metric tables are read
        String exposition = agent.get("/metrics").body();
        Map<String, List<Map<String, String>>> samples = samplesByName(exposition);
        List<Documented> documented = documentedMetrics(Files.readString(ALERTS_DOC, StandardCharsets.UTF_8));
        assertThat(documented).hasSizeGreaterThan(20);

        // then every documented metric is there with exactly its label keys and every documented value
        List<String> problems = new ArrayList<>();
        for (Documented metric : documented) {
            List<Map<String, String>> found = new ArrayList<>();
            for (String suffix : List.of("", "_bucket", "_count", "_sum", "_max")) {
                found.addAll(samples.getOrDefault(metric.name() + suffix, List.of()));
            }
            if (found.isEmpty()) {
                problems.add(metric.name() + ": not exposed (doc row: " + metric.row() + ")");
                continue;
            }
            for (Map<String, String> labels : found) {
                Set<String> keys = new TreeSet<>(labels.keySet());
                keys.remove("le");
                keys.remove("quantile");
                if (!keys.equals(new TreeSet<>(metric.labels()))) {
                    problems.add(metric.name() + ": labels " + keys + ", documented " + new TreeSet<>(metric.labels()));
                    break;
                }
            }
            metric.values().forEach((key, values) -> {
                Set<String> exposed = new TreeSet<>();
                found.forEach(labels -> exposed.add(labels.getOrDefault(key, "")));
                if (!exposed.containsAll(values)) {
                    problems.add(metric.name() + ": " + key + " values " + exposed + ", documented " + values);
                }
            });
        }
        assertThat(problems).as("docs/alerts.md vs /metrics").isEmpty();
    }

    @Test
    void atDefaultSettingsTheAgentExposesAtMost150SeriesAndNoPerStageHistogram() throws Exception {
        // given the agent at its default settings (standalone: no Kubernetes here; no webhook, no policy)
        agent = RunningAgent.start(defaults(), config -> {
            throw new AssertionError("standalone: no Kubernetes client");
        });
        assertThat(agent.awaitReady(Duration.ofSeconds(60)).status()).isEqualTo(200);

        // when /metrics is scraped
        String exposition = agent.get("/metrics").body();

        // then it holds at most 150 series, stage latencies as count and sum, exec-to-alert as a histogram
        List<String> series = series(exposition);
        assertThat(series).as("series at default settings (docs/benchmarks.md, Metrics footprint)")
                .hasSizeLessThanOrEqualTo(MAX_DEFAULT_SERIES);
        Map<String, List<Map<String, String>>> samples = samplesByName(exposition);
        assertThat(samples).doesNotContainKey("drift_stage_latency_seconds_bucket")
                .containsKeys("drift_stage_latency_seconds_count", "drift_stage_latency_seconds_sum",
                        "drift_exec_to_alert_latency_seconds_bucket");
        assertThat(stagesOf(samples.get("drift_stage_latency_seconds_count"))).containsAll(PIPELINE_STAGES);
    }

    @Test
    void inKubernetesModeAtTheChartsDefaultsTheAgentExposesAtMost150SeriesAndNoPerStageHistogram() throws Exception {
        // given an API server holding this node, and the agent as the chart's defaults run it: Kubernetes mode (the
        // pod informer, DriftPolicy resources), Kubernetes Events on, the chart's default policy, no webhook
        api = CrudApiServer.started();
        String node = "metrics-node";
        try (KubernetesClient client = api.server().createClient()) {
            client.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().build()).create();
        }
        Path policy = Files.writeString(dir.resolve("policy.yaml"), """
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: ignore-kube-system
                    priority: 10
                    action: ignore
                    resourceScope:
                      - field: namespace
                        operator: equals
                        values: ["kube-system"]
                defaultRule:
                  action: alert
                """);
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.NODE_NAME, node);
        flags.put(Setting.POLICY_FILE, policy.toString());
        flags.put(Setting.ALERTS_TARGET, dir.resolve("alerts.jsonl").toString());
        flags.put(Setting.KUBERNETES_EVENTS, "true");
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        agent = RunningAgent.start(flags, config -> api.server().createClient());
        assertThat(agent.awaitReady(Duration.ofSeconds(60)).status()).isEqualTo(200);

        // when /metrics is scraped
        String exposition = agent.get("/metrics").body();

        // then it holds at most 150 series, the Kubernetes meters among them, and no per-stage histogram
        Map<String, List<Map<String, String>>> samples = samplesByName(exposition);
        assertThat(samples).as("Kubernetes mode is on").containsKey("drift_informer_synced");
        System.out.println("series in Kubernetes mode at the chart's defaults: " + series(exposition).size());
        assertThat(series(exposition)).as("series in Kubernetes mode at the chart's defaults (docs/benchmarks.md)")
                .hasSizeLessThanOrEqualTo(MAX_DEFAULT_SERIES);
        assertThat(samples).doesNotContainKey("drift_stage_latency_seconds_bucket");
    }

    @Test
    void withStageHistogramsOptedInEveryStageHasItsLatencyHistogram() throws Exception {
        // given the agent with metrics.stageHistograms set
        Map<Setting, String> flags = defaults();
        flags.put(Setting.METRICS_STAGE_HISTOGRAMS, "true");
        agent = RunningAgent.start(flags, config -> {
            throw new AssertionError("standalone: no Kubernetes client");
        });
        assertThat(agent.awaitReady(Duration.ofSeconds(60)).status()).isEqualTo(200);

        // when /metrics is scraped
        Map<String, List<Map<String, String>>> samples = samplesByName(agent.get("/metrics").body());

        // then each pipeline stage has buckets up to +Inf
        List<Map<String, String>> buckets = samples.getOrDefault("drift_stage_latency_seconds_bucket", List.of());
        assertThat(stagesOf(buckets)).containsAll(PIPELINE_STAGES);
        for (String stage : PIPELINE_STAGES) {
            assertThat(buckets).as(stage).contains(Map.of("stage", stage, "le", "+Inf"));
        }
    }

    private static final int MAX_DEFAULT_SERIES = 150;
    private static final List<String> PIPELINE_STAGES =
            List.of("attribute", "classify", "enrich", "policy", "act", "report");

    private Map<Setting, String> defaults() {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.STANDALONE, "true");
        flags.put(Setting.ALERTS_TARGET, dir.resolve("alerts.jsonl").toString());
        flags.put(Setting.HTTP_BIND, "127.0.0.1");
        flags.put(Setting.HTTP_PORT, "0");
        return flags;
    }

    /** Every sample line of the exposition (one per series). */
    private static List<String> series(String exposition) {
        return exposition.lines().filter(line -> !line.isBlank() && !line.startsWith("#")).toList();
    }

    private static Set<String> stagesOf(List<Map<String, String>> samples) {
        Set<String> stages = new TreeSet<>();
        if (samples != null) {
            samples.forEach(labels -> stages.add(labels.getOrDefault("stage", "")));
        }
        return stages;
    }

    /** Rows of the tables under "## Metrics" whose header is "metric | type | labels". */
    static List<Documented> documentedMetrics(String markdown) {
        int start = markdown.indexOf("\n## Metrics");
        int end = markdown.indexOf("\n## ", start + 1);
        String section = markdown.substring(start, end < 0 ? markdown.length() : end);
        List<Documented> metrics = new ArrayList<>();
        for (String line : section.split("\n")) {
            if (!line.startsWith("| `drift_")) {
                continue;
            }
            String[] cells = line.substring(1, line.lastIndexOf('|')).split("(?<!\\\\)\\|", -1);
            if (cells.length != 3 || cells[1].contains("Kubernetes mode only")
                    || cells[1].contains("registered at first use")) {
                continue;
            }
            Set<String> labels = new LinkedHashSet<>();
            Map<String, Set<String>> values = new LinkedHashMap<>();
            for (String part : topLevelCommaParts(cells[2])) {
                List<String> codes = codes(part);
                if (codes.isEmpty()) {
                    continue;
                }
                labels.add(codes.get(0));
                int equals = part.indexOf('=');
                if (equals > 0 && part.indexOf('`') < equals) {
                    values.put(codes.get(0), new TreeSet<>(codes(part.substring(equals))));
                }
            }
            for (String named : codes(cells[0])) {
                Set<String> ownLabels = new LinkedHashSet<>(labels);
                String name = named;
                int brace = named.indexOf('{');
                if (brace > 0) {
                    name = named.substring(0, brace);
                    for (String label : named.substring(brace + 1, named.length() - 1).split(",")) {
                        ownLabels.add(label.trim());
                    }
                }
                metrics.add(new Documented(name, ownLabels, values, line));
            }
        }
        return metrics;
    }

    private static List<String> topLevelCommaParts(String cell) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int from = 0;
        for (int i = 0; i < cell.length(); i++) {
            char c = cell.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(cell.substring(from, i));
                from = i + 1;
            }
        }
        parts.add(cell.substring(from));
        // drop parenthesised remarks: their code spans are examples, not label keys
        parts.replaceAll(part -> part.replaceAll("\\([^)]*\\)", ""));
        return parts;
    }

    private static List<String> codes(String text) {
        List<String> codes = new ArrayList<>();
        Matcher matcher = CODE.matcher(text);
        while (matcher.find()) {
            codes.add(matcher.group(1));
        }
        return codes;
    }

    private static Map<String, List<Map<String, String>>> samplesByName(String exposition) {
        Map<String, List<Map<String, String>>> samples = new LinkedHashMap<>();
        Matcher matcher = SAMPLE.matcher(exposition);
        while (matcher.find()) {
            Map<String, String> labels = new LinkedHashMap<>();
            if (matcher.group(3) != null) {
                Matcher label = LABEL.matcher(matcher.group(3));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            samples.computeIfAbsent(matcher.group(1), k -> new ArrayList<>()).add(labels);
        }
        return samples;
    }
}
