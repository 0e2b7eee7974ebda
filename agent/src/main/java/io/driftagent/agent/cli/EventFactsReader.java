package io.driftagent.agent.cli;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.model.DriftKind;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the drift facts of one exec from JSON that uses the alert schema's names (DESIGN.md, "Alert"):
 * {@code cloud{provider,account}}, {@code cluster}, {@code pod{namespace,name,labels}}, {@code container{name,image}},
 * {@code drift{kind,path,sha256}}. A whole alert line (it has {@code schemaVersion}) is accepted too: its other fields,
 * and fields added to the alert schema after this reader, are ignored (docs/alerts.md, "Versions"). In hand-written
 * facts (no {@code schemaVersion}) an unknown field is a typo and an error; so are wrong types and a missing
 * {@code drift.kind} / {@code drift.path}.
 */
public final class EventFactsReader {
    private static final Set<String> ALERT_ONLY_FIELDS = Set.of("schemaVersion", "id", "time", "alertType", "severity",
            "action", "process", "node", "rule", "mitre", "count");
    private static final Set<String> TOP_LEVEL = union(ALERT_ONLY_FIELDS, Set.of("cloud", "cluster", "pod", "container", "drift"));
    private static final Set<String> CLOUD = Set.of("provider", "account");
    private static final Set<String> POD = Set.of("namespace", "name", "labels", "uid");
    private static final Set<String> CONTAINER = Set.of("name", "image", "id", "runtime", "imageDigest");
    private static final Set<String> DRIFT = Set.of("kind", "path", "sha256", "imagePath", "layer", "reason", "pathBytes",
            "origin");

    private final JsonMapper mapper = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    public DriftFacts read(byte[] json) throws InvalidEventException {
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (JacksonException e) {
            throw new InvalidEventException("the event is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidEventException("the event must be one JSON object");
        }
        boolean strict = !root.has("schemaVersion");
        checkFields(root, "", TOP_LEVEL, strict);
        JsonNode cloud = object(root, "cloud", CLOUD, strict);
        JsonNode pod = object(root, "pod", POD, strict);
        JsonNode container = object(root, "container", CONTAINER, strict);
        JsonNode drift = object(root, "drift", DRIFT, strict);
        if (drift == null) {
            throw new InvalidEventException("the event needs drift{kind,path}");
        }
        String kindName = string(drift, "drift.kind");
        if (kindName == null) {
            throw new InvalidEventException("drift.kind is required");
        }
        DriftKind kind = driftKind(kindName);
        String path = string(drift, "drift.path");
        if (path == null) {
            throw new InvalidEventException("drift.path is required");
        }
        return new DriftFacts(
                string(cloud, "cloud.provider"),
                string(cloud, "cloud.account"),
                string(root, "cluster"),
                string(pod, "pod.namespace"),
                string(pod, "pod.name"),
                labels(pod),
                string(container, "container.name"),
                string(container, "container.image"),
                kind,
                path,
                string(drift, "drift.sha256"));
    }

    private static DriftKind driftKind(String name) throws InvalidEventException {
        for (DriftKind kind : DriftKind.values()) {
            if (kind.isDrift() && kind.name().equals(name)) {
                return kind;
            }
        }
        throw new InvalidEventException("drift.kind '" + name + "' is not a drift kind; use ADDED, MODIFIED, MOUNT, "
                + "FILELESS or UNRESOLVED (IMAGE never reaches the policy)");
    }

    private static JsonNode object(JsonNode parent, String field, Set<String> known, boolean strict)
            throws InvalidEventException {
        JsonNode node = parent.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new InvalidEventException(field + " must be an object");
        }
        checkFields(node, field + ".", known, strict);
        return node;
    }

    private static void checkFields(JsonNode node, String prefix, Set<String> known, boolean strict)
            throws InvalidEventException {
        if (!strict) {
            return;
        }
        for (String name : node.propertyNames()) {
            if (!known.contains(name)) {
                throw new InvalidEventException("unknown field '" + prefix + name + "'; known here: " + known.stream().sorted().toList());
            }
        }
    }

    /** The string at {@code parent.<last segment of path>}; null when the parent or the value is absent or null. */
    private static String string(JsonNode parent, String path) throws InvalidEventException {
        if (parent == null) {
            return null;
        }
        JsonNode value = parent.get(path.substring(path.lastIndexOf('.') + 1));
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString()) {
            throw new InvalidEventException(path + " must be a string");
        }
        return value.stringValue();
    }

    private static Map<String, String> labels(JsonNode pod) throws InvalidEventException {
        Map<String, String> labels = new LinkedHashMap<>();
        if (pod == null) {
            return labels;
        }
        JsonNode node = pod.get("labels");
        if (node == null || node.isNull()) {
            return labels;
        }
        if (!node.isObject()) {
            throw new InvalidEventException("pod.labels must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> label : node.properties()) {
            if (!label.getValue().isString()) {
                throw new InvalidEventException("pod.labels." + label.getKey() + " must be a string");
            }
            labels.put(label.getKey(), label.getValue().stringValue());
        }
        return labels;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        java.util.HashSet<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
