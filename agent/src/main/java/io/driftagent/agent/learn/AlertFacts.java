package io.driftagent.agent.learn;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.Trigger;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The drift facts a policy decides on, read from a JSON object that uses the alert schema's names (docs/alerts.md):
 * {@code cloud{provider,account}}, {@code cluster}, {@code pod{namespace,name,labels}}, {@code container{name,image}},
 * {@code drift{kind,path,sha256}}. One reader for the alert log ({@link AlertLogReader}) and for {@code policy explain}'s
 * event, so both accept and refuse the same things with the same words.
 */
public final class AlertFacts {
    private static final Pattern HEX_64 = Pattern.compile("[0-9a-fA-F]{64}");

    private AlertFacts() {
    }

    /** A field of the wrong type or a missing required one; the message names the field by its JSON path. */
    public static final class BadField extends Exception {
        BadField(String message) {
            super(message, null, false, false);
        }
    }

    public static DriftFacts read(JsonNode root) throws BadField {
        JsonNode drift = object(root, "drift");
        if (drift == null) {
            throw new BadField("drift{kind,path} is required");
        }
        DriftKind kind = driftKind(required(drift, "drift.kind"));
        String path = required(drift, "drift.path");
        JsonNode cloud = object(root, "cloud");
        JsonNode pod = object(root, "pod");
        JsonNode container = object(root, "container");
        return new DriftFacts(
                string(cloud, "cloud.provider"), string(cloud, "cloud.account"), string(root, "cluster"),
                string(pod, "pod.namespace"), string(pod, "pod.name"), labels(pod),
                string(container, "container.name"), string(container, "container.image"),
                kind, path, sha256(drift),
                // a library load's alert is judged as one (on replay, by explain): a rule may target triggers
                "LibraryDrift".equals(string(root, "alertType")) ? Trigger.LIBRARY : Trigger.EXEC);
    }

    private static DriftKind driftKind(String name) throws BadField {
        for (DriftKind kind : DriftKind.values()) {
            if (kind.isDrift() && kind.name().equals(name)) {
                return kind;
            }
        }
        throw new BadField("drift.kind '" + name + "' is not a drift kind; use ADDED, MODIFIED, MOUNT, FILELESS or "
                + "UNRESOLVED (IMAGE never reaches the policy)");
    }

    /** The digest as the agent computes it (lower-case hex); other spellings are lower-cased, other text kept. */
    private static String sha256(JsonNode drift) throws BadField {
        String sha = string(drift, "drift.sha256");
        return sha != null && HEX_64.matcher(sha).matches() ? sha.toLowerCase(Locale.ROOT) : sha;
    }

    /** The object at {@code parent.field}; null when absent or null. */
    public static JsonNode object(JsonNode parent, String field) throws BadField {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new BadField(field + " must be an object");
        }
        return node;
    }

    public static String required(JsonNode parent, String path) throws BadField {
        String value = string(parent, path);
        if (value == null) {
            throw new BadField(path + " is required");
        }
        return value;
    }

    /** The string at {@code parent.<last segment of path>}; null when the parent or the value is absent or null. */
    public static String string(JsonNode parent, String path) throws BadField {
        if (parent == null) {
            return null;
        }
        JsonNode value = parent.get(path.substring(path.lastIndexOf('.') + 1));
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString()) {
            throw new BadField(path + " must be a string");
        }
        return value.stringValue();
    }

    private static Map<String, String> labels(JsonNode pod) throws BadField {
        Map<String, String> labels = new LinkedHashMap<>();
        JsonNode node = pod == null ? null : pod.get("labels");
        if (node == null || node.isNull()) {
            return labels;
        }
        if (!node.isObject()) {
            throw new BadField("pod.labels must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> label : node.properties()) {
            if (!label.getValue().isString()) {
                throw new BadField("pod.labels." + label.getKey() + " must be a string");
            }
            labels.put(label.getKey(), label.getValue().stringValue());
        }
        return labels;
    }
}
