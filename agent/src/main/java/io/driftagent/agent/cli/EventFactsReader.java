package io.driftagent.agent.cli;

import io.driftagent.agent.learn.AlertFacts;
import io.driftagent.policy.eval.DriftFacts;
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
        if (!root.has("schemaVersion")) {
            checkFields(root, "", TOP_LEVEL);
            checkFields(root, "cloud", CLOUD);
            checkFields(root, "pod", POD);
            checkFields(root, "container", CONTAINER);
            checkFields(root, "drift", DRIFT);
        }
        try {
            return AlertFacts.read(root);
        } catch (AlertFacts.BadField e) {
            throw new InvalidEventException(e.getMessage());
        }
    }

    /** In hand-written facts an unknown field is a typo: refused, naming the fields known there. */
    private static void checkFields(JsonNode root, String object, Set<String> known) throws InvalidEventException {
        JsonNode node = object.isEmpty() ? root : root.get(object);
        if (node == null || !node.isObject()) {
            return;
        }
        String prefix = object.isEmpty() ? "" : object + ".";
        for (String name : node.propertyNames()) {
            if (!known.contains(name)) {
                throw new InvalidEventException("unknown field '" + prefix + name + "'; known here: "
                        + known.stream().sorted().toList());
            }
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        java.util.HashSet<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
