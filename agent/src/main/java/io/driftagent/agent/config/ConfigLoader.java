package io.driftagent.agent.config;

import io.driftagent.policy.model.CloudProvider;
import io.driftagent.reporter.json.AlertFormat;
import io.driftagent.reporter.webhook.BodyTemplate;
import io.driftagent.reporter.webhook.WebhookHeader;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Builds {@link AgentConfig} from defaults, a YAML file, the environment and command-line flags; a later layer
 * overrides an earlier one key by key. Strict where the operator writes settings: an unknown key in the file or a
 * bad value anywhere is an error naming the key and where it came from; every problem is reported at once. An
 * unknown {@code DRIFT_*} environment variable is ignored with one warning naming them all: the environment is not
 * only the operator's (kubelet injects service links such as {@code DRIFT_AGENT_PORT} for a Service named
 * {@code drift-agent}, and a crash loop on them would take every node's agent down).
 */
public final class ConfigLoader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final long MAX_FILE_BYTES = 1 << 20;
    private static final int MAX_QUEUE = 1 << 20;

    private final Supplier<String> hostName;
    private final Consumer<String> warnings;
    private final YAMLMapper yaml = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** @param hostName the default node name standalone (read lazily, only when needed; null when unknown) */
    public ConfigLoader(Supplier<String> hostName) {
        this(hostName, LOG::warn);
    }

    /**
     * @param hostName the default node name standalone
     * @param warnings told of each degradation that is not an error (one message per {@link #load} at most)
     */
    public ConfigLoader(Supplier<String> hostName, Consumer<String> warnings) {
        this.hostName = hostName;
        this.warnings = warnings;
    }

    /**
     * @param file  the YAML file, if any
     * @param env   the process environment ({@code DRIFT_*} and {@code NODE_NAME} are read; other names ignored, and
     *              so are {@code DRIFT_*} names that are no setting, with one warning)
     * @param flags values given on the command line, as their text
     */
    public AgentConfig load(Optional<Path> file, Map<String, String> env, Map<Setting, String> flags)
            throws ConfigException {
        List<String> problems = new ArrayList<>();
        Map<Setting, Raw> merged = new EnumMap<>(Setting.class);
        file.ifPresent(f -> readFile(f, merged, problems));
        readEnvironment(env, merged, problems);
        flags.forEach((setting, text) -> merged.put(setting, new Raw(List.of(text), "flag")));
        AgentConfig config = build(new Values(merged, problems));
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    private void readFile(Path file, Map<Setting, Raw> into, List<String> problems) {
        JsonNode root;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                problems.add(file + ": larger than " + MAX_FILE_BYTES + " bytes");
                return;
            }
            try (InputStream in = Files.newInputStream(file)) {
                root = yaml.readTree(in);
            }
        } catch (IOException e) {
            problems.add(file + ": cannot read: " + e.getMessage());
            return;
        } catch (JacksonException e) {
            problems.add(file + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ")"));
            return;
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return;
        }
        if (!root.isObject()) {
            problems.add(file + ": the top level must be a mapping of settings");
            return;
        }
        flatten(file, "", root, into, problems);
    }

    private static void flatten(Path file, String prefix, JsonNode node, Map<Setting, Raw> into, List<String> problems) {
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            String key = prefix.isEmpty() ? entry.getKey() : prefix + "." + entry.getKey();
            JsonNode value = entry.getValue();
            Optional<Setting> setting = Setting.byKey(key);
            String origin = "file " + file;
            if (setting.isPresent()) {
                if (value.isNull()) {
                    continue;
                }
                if (value.isValueNode()) {
                    into.put(setting.get(), new Raw(List.of(value.asString()), origin));
                } else if (value.isArray() && setting.get().isList()) {
                    List<String> items = new ArrayList<>();
                    for (JsonNode item : value.values()) {
                        items.add(item.isValueNode() ? item.asString() : item.toString());
                    }
                    into.put(setting.get(), new Raw(items, origin));
                } else if (setting.get() == Setting.WEBHOOK_HEADERS && (value.isArray() || value.isObject())) {
                    // a list of "Name: value" lines, or a mapping of name to value
                    List<String> lines = new ArrayList<>();
                    if (value.isArray()) {
                        for (JsonNode item : value.values()) {
                            lines.add(item.isValueNode() ? item.asString() : item.toString());
                        }
                    } else {
                        for (Map.Entry<String, JsonNode> header : value.properties()) {
                            JsonNode v = header.getValue();
                            if (v.isNull() || !v.isValueNode()) {
                                problems.add(key + "." + header.getKey() + ": expected the header's value as text ("
                                        + origin + ")");
                            } else {
                                lines.add(header.getKey() + ": " + v.asString());
                            }
                        }
                    }
                    into.put(setting.get(), new Raw(lines, origin));
                } else {
                    problems.add(key + ": expected a single value, got " + describe(value) + " (" + origin + ")");
                }
            } else if (Setting.isSection(key)) {
                if (value.isObject()) {
                    flatten(file, key, value, into, problems);
                } else if (!value.isNull()) {
                    problems.add(key + ": expected a mapping, got " + describe(value) + " (" + origin + ")");
                }
            } else {
                problems.add(key + ": unknown key (" + origin + ")");
            }
        }
    }

    private static String describe(JsonNode value) {
        return value.isArray() ? "a list" : value.isObject() ? "a mapping" : "'" + value.asString() + "'";
    }

    private void readEnvironment(Map<String, String> env, Map<Setting, Raw> into, List<String> problems) {
        String downwardApi = env.get(Setting.DOWNWARD_API_NODE_NAME);
        if (downwardApi != null && !downwardApi.isEmpty()) {
            into.put(Setting.NODE_NAME, new Raw(List.of(downwardApi), "environment " + Setting.DOWNWARD_API_NODE_NAME));
        }
        List<String> unknown = new ArrayList<>();
        env.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(entry -> {
            String name = entry.getKey();
            if (!name.startsWith("DRIFT_") || name.equals(Setting.CONFIG_FILE_ENV)) {
                return;
            }
            Optional<Setting> setting = Setting.byEnvName(name);
            if (setting.isEmpty()) {
                unknown.add(name);
                return;
            }
            into.put(setting.get(), new Raw(List.of(entry.getValue()), "environment " + name));
        });
        if (!unknown.isEmpty()) {
            warnings.accept("ignoring " + unknown.size() + " environment variable" + (unknown.size() == 1 ? "" : "s")
                    + " that name no setting: " + String.join(", ", unknown) + " (Kubernetes service links of a"
                    + " Service named drift-agent look like this; a misspelt setting does too: see docs/configuration.md)");
        }
    }

    private AgentConfig build(Values v) {
        boolean standalone = v.bool(Setting.STANDALONE, false);
        String nodeName = v.text(Setting.NODE_NAME);
        if (nodeName == null) {
            if (standalone) {
                nodeName = hostName.get();
                if (nodeName == null || nodeName.isBlank()) {
                    v.problems.add(Setting.NODE_NAME.key() + ": the host name is unknown; set " + Setting.NODE_NAME.envName());
                }
            } else {
                v.problems.add(Setting.NODE_NAME.key() + ": required outside standalone mode: set " + Setting.DOWNWARD_API_NODE_NAME
                        + " from the downward API (spec.nodeName)");
            }
        } else if (nodeName.length() > 253 || !nodeName.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            v.problems.add(v.bad(Setting.NODE_NAME, "must be at most 253 printable characters without spaces"));
        }
        AgentConfig.Webhook webhook = webhook(v);
        AgentConfig.Queues queues = new AgentConfig.Queues(
                v.integer(Setting.QUEUE_SOURCE, AgentConfig.Queues.DEFAULTS.source(), 1, MAX_QUEUE),
                v.integer(Setting.QUEUE_STAGE, AgentConfig.Queues.DEFAULTS.stage(), 1, MAX_QUEUE),
                v.integer(Setting.QUEUE_PARKING, AgentConfig.Queues.DEFAULTS.parking(), 0, MAX_QUEUE),
                v.integer(Setting.QUEUE_ALERTS, AgentConfig.Queues.DEFAULTS.alerts(), 1, MAX_QUEUE));
        AgentConfig.Blocking blocking = new AgentConfig.Blocking(
                v.duration(Setting.BLOCKING_DECISION_TIMEOUT, AgentConfig.Blocking.DEFAULTS.decisionTimeout(), false),
                v.choice(Setting.BLOCKING_ON_TIMEOUT, TimeoutAction.class, AgentConfig.Blocking.DEFAULTS.onTimeout()));
        AgentConfig.Http http = new AgentConfig.Http(v.bindAddress(Setting.HTTP_BIND),
                v.integer(Setting.HTTP_PORT, AgentConfig.Http.DEFAULT_PORT, 0, 65535));
        String alertsTarget = v.text(Setting.ALERTS_TARGET);
        AgentConfig config = new AgentConfig(
                nodeName == null ? "" : nodeName,
                v.text(Setting.CLUSTER_NAME),
                v.choice(Setting.CLOUD_PROVIDER, CloudProvider.class, null),
                v.text(Setting.CLOUD_ACCOUNT),
                v.path(Setting.POLICY_FILE),
                alertsTarget == null ? AgentConfig.STDOUT : v.alertsTarget(alertsTarget),
                v.choice(Setting.SOURCE, SourceChoice.class, SourceChoice.AUTO),
                http,
                standalone,
                queues,
                v.retries(Setting.METADATA_RETRIES),
                webhook,
                v.bool(Setting.KUBERNETES_EVENTS, true),
                v.duration(Setting.DEDUP_WINDOW, Duration.ofSeconds(60), true),
                blocking,
                v.duration(Setting.SHUTDOWN_TIMEOUT, Duration.ofSeconds(5), false),
                v.choice(Setting.LOG_LEVEL, LogLevel.class, LogLevel.INFO),
                v.bool(Setting.METRICS_STAGE_HISTOGRAMS, false),
                v.choice(Setting.ALERTS_FORMAT, AlertFormat.class, AlertFormat.DRIFT),
                learn(v),
                new AgentConfig.KernelHooks(v.bool(Setting.EBPF_LIBRARY_DRIFT, true),
                        v.bool(Setting.EBPF_WRITE_TRACKING, true)));
        return config;
    }

    private static AgentConfig.Learn learn(Values v) {
        List<String> namespaces = v.names(Setting.LEARN_NAMESPACES);
        List<String> workloads = v.names(Setting.LEARN_WORKLOADS);
        Duration duration = v.duration(Setting.LEARN_DURATION, AgentConfig.Learn.DEFAULT_DURATION, false);
        Path alertsFile = v.path(Setting.LEARN_ALERTS_FILE);
        Path suggestionFile = v.path(Setting.LEARN_SUGGESTION_FILE);
        if (namespaces.isEmpty() && workloads.isEmpty()) {
            for (Setting s : List.of(Setting.LEARN_DURATION, Setting.LEARN_ALERTS_FILE, Setting.LEARN_SUGGESTION_FILE)) {
                if (v.raw.containsKey(s)) {
                    v.problems.add(v.bad(s, "set without " + Setting.LEARN_NAMESPACES.key() + " or "
                            + Setting.LEARN_WORKLOADS.key()));
                }
            }
            return AgentConfig.Learn.OFF;
        }
        boolean complete = true;
        for (Setting s : List.of(Setting.LEARN_ALERTS_FILE, Setting.LEARN_SUGGESTION_FILE)) {
            if (!v.raw.containsKey(s)) {
                v.problems.add(s.key() + ": required in learn mode (" + Setting.LEARN_NAMESPACES.key() + " or "
                        + Setting.LEARN_WORKLOADS.key() + " is set): set " + s.envName());
                complete = false;
            }
        }
        if (!complete || alertsFile == null || suggestionFile == null) {
            return AgentConfig.Learn.OFF;
        }
        return new AgentConfig.Learn(new java.util.LinkedHashSet<>(namespaces), new java.util.LinkedHashSet<>(workloads),
                duration, alertsFile, suggestionFile);
    }

    private static AgentConfig.Webhook webhook(Values v) {
        URI url = v.url(Setting.WEBHOOK_URL);
        Path secretFile = v.path(Setting.WEBHOOK_SECRET_FILE);
        Duration timeout = v.duration(Setting.WEBHOOK_TIMEOUT, Duration.ofSeconds(5), false);
        AlertFormat format = v.choice(Setting.WEBHOOK_FORMAT, AlertFormat.class, AlertFormat.DRIFT);
        List<String> headers = v.headerLines(Setting.WEBHOOK_HEADERS);
        String bodyTemplate = v.bodyTemplate(Setting.WEBHOOK_BODY_TEMPLATE);
        Path caFile = v.path(Setting.WEBHOOK_CA_FILE);
        if (v.isSet(Setting.WEBHOOK_BODY_TEMPLATE) && v.isSet(Setting.WEBHOOK_FORMAT)) {
            v.problems.add(Setting.WEBHOOK_FORMAT.key() + ": cannot be combined with " + Setting.WEBHOOK_BODY_TEMPLATE.key()
                    + " (put {{falco}} or {{alert}} in the template)");
        }
        if (url == null) {
            for (Setting needsUrl : List.of(Setting.WEBHOOK_SECRET_FILE, Setting.WEBHOOK_FORMAT, Setting.WEBHOOK_CA_FILE)) {
                if (v.isSet(needsUrl)) {
                    v.problems.add(v.bad(needsUrl, "set without " + Setting.WEBHOOK_URL.key()));
                }
            }
            // not echoed: a header line may hold a token, a template is long
            for (Setting needsUrl : List.of(Setting.WEBHOOK_HEADERS, Setting.WEBHOOK_BODY_TEMPLATE)) {
                if (v.isSet(needsUrl)) {
                    v.problems.add(needsUrl.key() + ": set without " + Setting.WEBHOOK_URL.key() + " ("
                            + v.origin(needsUrl) + ")");
                }
            }
            return null;
        }
        return new AgentConfig.Webhook(url, secretFile, timeout, format, headers, bodyTemplate, caFile);
    }

    /** One setting's text as given, and where it came from (for error messages). */
    private record Raw(List<String> values, String origin) {
    }

    /** Typed reads of the merged settings; a bad value adds a problem and yields the default. */
    private static final class Values {
        private final Map<Setting, Raw> raw;
        private final List<String> problems;

        Values(Map<Setting, Raw> raw, List<String> problems) {
            this.raw = raw;
            this.problems = problems;
        }

        String bad(Setting setting, String why) {
            Raw r = raw.get(setting);
            String shown = r == null ? "" : " '" + String.join(",", r.values()) + "'";
            return setting.key() + ":" + shown + " " + why + (r == null ? "" : " (" + r.origin() + ")");
        }

        boolean isSet(Setting setting) {
            return raw.containsKey(setting);
        }

        String origin(Setting setting) {
            Raw r = raw.get(setting);
            return r == null ? "default" : r.origin();
        }

        /**
         * Header lines {@code Name: value}: from the file a list or a mapping, from the environment or a flag one line
         * each. Errors name the line, never its value (it may hold a token).
         */
        List<String> headerLines(Setting setting) {
            Raw r = raw.get(setting);
            if (r == null) {
                return List.of();
            }
            List<String> lines = new ArrayList<>();
            for (String value : r.values()) {
                for (String line : value.split("\\r?\\n")) {
                    if (!line.isBlank()) {
                        lines.add(line.strip());
                    }
                }
            }
            for (int i = 0; i < lines.size(); i++) {
                try {
                    WebhookHeader.parse(lines.get(i));
                } catch (IllegalArgumentException e) {
                    problems.add(setting.key() + ": line " + (i + 1) + ": " + e.getMessage() + " (" + r.origin() + ")");
                }
            }
            List<String> names = new ArrayList<>();
            for (String line : lines) {
                int colon = line.indexOf(':');
                String name = colon < 0 ? line : line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                if (names.contains(name)) {
                    problems.add(setting.key() + ": header " + line.substring(0, Math.max(colon, 0)).strip()
                            + " is configured twice (" + r.origin() + ")");
                }
                names.add(name);
            }
            return lines;
        }

        /** The body template, checked now: an unknown placeholder or a body that is not JSON is an error at start. */
        String bodyTemplate(Setting setting) {
            String text = text(setting);
            if (text == null) {
                return null;
            }
            try {
                BodyTemplate.parse(text);
                return text;
            } catch (IllegalArgumentException e) {
                problems.add(setting.key() + ": " + e.getMessage() + " (" + raw.get(setting).origin() + ")");
                return null;
            }
        }

        String text(Setting setting) {
            Raw r = raw.get(setting);
            if (r == null) {
                return null;
            }
            if (r.values().size() != 1) {
                problems.add(bad(setting, "expects a single value"));
                return null;
            }
            String value = r.values().get(0).trim();
            if (value.isEmpty()) {
                problems.add(bad(setting, "must not be empty"));
                return null;
            }
            return value;
        }

        boolean bool(Setting setting, boolean otherwise) {
            String text = text(setting);
            if (text == null) {
                return otherwise;
            }
            if (text.equalsIgnoreCase("true")) {
                return true;
            }
            if (text.equalsIgnoreCase("false")) {
                return false;
            }
            problems.add(bad(setting, "must be true or false"));
            return otherwise;
        }

        int integer(Setting setting, int otherwise, int min, int max) {
            String text = text(setting);
            if (text == null) {
                return otherwise;
            }
            try {
                int value = Integer.parseInt(text);
                if (value >= min && value <= max) {
                    return value;
                }
            } catch (NumberFormatException notANumber) {
                problems.add(bad(setting, "is not an integer"));
                return otherwise;
            }
            problems.add(bad(setting, "must be between " + min + " and " + max));
            return otherwise;
        }

        Duration duration(Setting setting, Duration otherwise, boolean zeroAllowed) {
            String text = text(setting);
            if (text == null) {
                return otherwise;
            }
            Duration value = parseDuration(text);
            if (value == null) {
                problems.add(bad(setting, "is not a duration (a whole number with ms, s, m or h: 250ms, 5s)"));
                return otherwise;
            }
            if (value.isZero() && !zeroAllowed) {
                problems.add(bad(setting, "must be greater than zero"));
                return otherwise;
            }
            return value;
        }

        static Duration parseDuration(String text) {
            Matcher m = DURATION.matcher(text);
            if (!m.matches()) {
                return null;
            }
            long amount = Long.parseLong(m.group(1));
            switch (m.group(2)) {
                case "ms":
                    return Duration.ofMillis(amount);
                case "s":
                    return Duration.ofSeconds(amount);
                case "m":
                    return Duration.ofMinutes(amount);
                default:
                    return Duration.ofHours(amount);
            }
        }

        List<Duration> retries(Setting setting) {
            Raw r = raw.get(setting);
            if (r == null) {
                return List.of(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1));
            }
            if (r.values().size() == 1 && r.values().get(0).trim().isEmpty()) {
                return List.of();
            }
            List<String> texts = r.values().stream().flatMap(v -> Arrays.stream(v.split(",", -1))).toList();
            List<Duration> retries = new ArrayList<>();
            for (String text : texts) {
                Duration d = parseDuration(text.trim());
                if (d == null || d.isZero()) {
                    problems.add(bad(setting, "must be positive durations like 100ms, 1s"));
                    return List.of();
                }
                if (!retries.isEmpty() && d.compareTo(retries.get(retries.size() - 1)) <= 0) {
                    problems.add(bad(setting, "must be ascending (offsets from the first miss)"));
                    return List.of();
                }
                retries.add(d);
            }
            return retries;
        }

        /** A list of names (YAML list or comma-separated text); unset or empty text is no name; blanks are errors. */
        List<String> names(Setting setting) {
            Raw r = raw.get(setting);
            if (r == null || (r.values().size() == 1 && r.values().get(0).trim().isEmpty())) {
                return List.of();
            }
            List<String> names = new ArrayList<>();
            for (String text : r.values().stream().flatMap(v -> Arrays.stream(v.split(",", -1))).toList()) {
                String name = text.trim();
                if (name.isEmpty() || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                    problems.add(bad(setting, "must be names separated by commas, none empty"));
                    return List.of();
                }
                names.add(name);
            }
            return names;
        }

        <E extends Enum<E>> E choice(Setting setting, Class<E> type, E otherwise) {
            String text = text(setting);
            if (text == null) {
                return otherwise;
            }
            for (E constant : type.getEnumConstants()) {
                if (constant.name().equalsIgnoreCase(text)) {
                    return constant;
                }
            }
            problems.add(bad(setting, "must be one of " + Arrays.stream(type.getEnumConstants())
                    .map(c -> c.name().toLowerCase(Locale.ROOT)).toList()));
            return otherwise;
        }

        Path path(Setting setting) {
            String text = text(setting);
            if (text == null) {
                return null;
            }
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                problems.add(bad(setting, "is not a valid path"));
                return null;
            }
        }

        String alertsTarget(String text) {
            if (text.equals(AgentConfig.STDOUT)) {
                return text;
            }
            return path(Setting.ALERTS_TARGET) == null ? AgentConfig.STDOUT : text;
        }

        String bindAddress(Setting setting) {
            String text = text(setting);
            if (text == null) {
                return AgentConfig.Http.DEFAULT_BIND;
            }
            if (text.equals("localhost")) {
                return "127.0.0.1";
            }
            if (IPV4.matcher(text).matches() || (IPV6.matcher(text).matches() && text.indexOf(':') >= 0)) {
                return text;
            }
            problems.add(bad(setting, "must be an IP address literal (0.0.0.0, 127.0.0.1, ::) or localhost"));
            return AgentConfig.Http.DEFAULT_BIND;
        }

        URI url(Setting setting) {
            String text = text(setting);
            if (text == null) {
                return null;
            }
            try {
                URI uri = new URI(text);
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                    return uri;
                }
            } catch (URISyntaxException e) {
                problems.add(bad(setting, "is not a URL"));
                return null;
            }
            problems.add(bad(setting, "must be an http:// or https:// URL with a host"));
            return null;
        }
    }
}
