package io.driftagent.agent.learn;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.learn.RecordedAlert;
import io.driftagent.policy.model.DriftKind;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads an alert log: JSON lines as the agent writes them (docs/alerts.md). Each line is read on its own; a line that
 * is not an alert (not JSON, a fragment left by a full disk, a wrong type, no {@code drift.kind}/{@code drift.path}/
 * {@code action}, longer than {@link #MAX_LINE_BYTES}) is skipped and reported with its line number, never fatal.
 * Fields the reader does not use are ignored, so additive fields of the alert schema do not break it.
 */
public final class AlertLogReader {
    /** Longer lines are skipped: an alert line is bounded well below this (docs/alerts.md, "Hostile strings"). */
    public static final int MAX_LINE_BYTES = 4 * 1024 * 1024;

    private static final java.util.regex.Pattern HEX_64 = java.util.regex.Pattern.compile("[0-9a-fA-F]{64}");

    private final JsonMapper mapper = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    public AlertLog read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        }
    }

    public AlertLog read(InputStream input) throws IOException {
        List<RecordedAlert> alerts = new ArrayList<>();
        List<AlertLog.Malformed> malformed = new ArrayList<>();
        InputStream in = new BufferedInputStream(input, 64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long number = 0;
        boolean tooLong = false;
        boolean more = true;
        while (more) {
            int b = in.read();
            if (b == -1) {
                more = false;
                if (line.size() == 0 && !tooLong) {
                    break;
                }
            } else if (b != '\n') {
                if (line.size() < MAX_LINE_BYTES) {
                    line.write(b);
                } else {
                    tooLong = true;
                }
                continue;
            }
            number++;
            if (tooLong) {
                malformed.add(new AlertLog.Malformed(number, "longer than " + MAX_LINE_BYTES + " bytes"));
            } else {
                byte[] bytes = line.toByteArray();
                if (!isBlank(bytes)) {
                    try {
                        alerts.add(parse(number, bytes));
                    } catch (NotAnAlert e) {
                        malformed.add(new AlertLog.Malformed(number, e.getMessage()));
                    }
                }
            }
            line.reset();
            tooLong = false;
        }
        return new AlertLog(alerts, malformed);
    }

    private static boolean isBlank(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    RecordedAlert parse(long number, byte[] json) throws NotAnAlert {
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (JacksonException e) {
            throw new NotAnAlert("not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new NotAnAlert("not a JSON object");
        }
        JsonNode drift = object(root, "drift");
        if (drift == null) {
            throw new NotAnAlert("no drift object");
        }
        String kindName = required(drift, "drift.kind");
        DriftKind kind = null;
        for (DriftKind k : DriftKind.values()) {
            if (k.isDrift() && k.name().equals(kindName)) {
                kind = k;
            }
        }
        if (kind == null) {
            throw new NotAnAlert("drift.kind '" + kindName + "' is not a drift kind");
        }
        String path = required(drift, "drift.path");
        String action = required(root, "action");
        if (!action.equals("alert") && !action.equals("block")) {
            throw new NotAnAlert("action '" + action + "' is neither alert nor block");
        }
        JsonNode cloud = object(root, "cloud");
        JsonNode pod = object(root, "pod");
        JsonNode container = object(root, "container");
        JsonNode rule = object(root, "rule");
        DriftFacts facts = new DriftFacts(
                string(cloud, "cloud.provider"), string(cloud, "cloud.account"), string(root, "cluster"),
                string(pod, "pod.namespace"), string(pod, "pod.name"), labels(pod),
                string(container, "container.name"), string(container, "container.image"),
                kind, path, sha256(drift),
                // a library load's alert is judged as one on replay: a rule may target triggers
                "LibraryDrift".equals(string(root, "alertType"))
                        ? io.driftagent.policy.model.Trigger.LIBRARY : io.driftagent.policy.model.Trigger.EXEC);
        return new RecordedAlert(number, string(root, "id"), time(root), action,
                "BinaryDriftBlocked".equals(string(root, "alertType")), string(rule, "rule.name"), count(root), facts);
    }

    /** The digest as the agent computes it (lower-case hex); other spellings are lower-cased, other text kept. */
    private static String sha256(JsonNode drift) throws NotAnAlert {
        String sha = string(drift, "drift.sha256");
        return sha != null && HEX_64.matcher(sha).matches()
                ? sha.toLowerCase(java.util.Locale.ROOT) : sha;
    }

    private static Instant time(JsonNode root) throws NotAnAlert {
        String text = string(root, "time");
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new NotAnAlert("time '" + text + "' is not an RFC 3339 UTC time");
        }
    }

    private static int count(JsonNode root) throws NotAnAlert {
        JsonNode count = root.get("count");
        if (count == null || count.isNull()) {
            return 1;
        }
        if (!count.isIntegralNumber() || !count.canConvertToInt() || count.intValue() < 1) {
            throw new NotAnAlert("count must be a positive integer");
        }
        return count.intValue();
    }

    private static JsonNode object(JsonNode parent, String field) throws NotAnAlert {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new NotAnAlert(field + " must be an object");
        }
        return node;
    }

    private static String required(JsonNode parent, String path) throws NotAnAlert {
        String value = string(parent, path);
        if (value == null) {
            throw new NotAnAlert(path + " is required");
        }
        return value;
    }

    private static String string(JsonNode parent, String path) throws NotAnAlert {
        if (parent == null) {
            return null;
        }
        JsonNode value = parent.get(path.substring(path.lastIndexOf('.') + 1));
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString()) {
            throw new NotAnAlert(path + " must be a string");
        }
        return value.stringValue();
    }

    private static Map<String, String> labels(JsonNode pod) throws NotAnAlert {
        Map<String, String> labels = new LinkedHashMap<>();
        JsonNode node = pod == null ? null : pod.get("labels");
        if (node == null || node.isNull()) {
            return labels;
        }
        if (!node.isObject()) {
            throw new NotAnAlert("pod.labels must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> label : node.properties()) {
            if (!label.getValue().isString()) {
                throw new NotAnAlert("pod.labels." + label.getKey() + " must be a string");
            }
            labels.put(label.getKey(), label.getValue().stringValue());
        }
        return labels;
    }

    /** A line that is not an alert; the message says why. */
    static final class NotAnAlert extends Exception {
        NotAnAlert(String message) {
            super(message, null, false, false);
        }
    }
}
