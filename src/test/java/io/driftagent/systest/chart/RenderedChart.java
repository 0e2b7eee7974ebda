package io.driftagent.systest.chart;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/** The manifests {@code helm template} rendered, looked up by kind and name. */
public record RenderedChart(String release, String namespace, List<JsonNode> documents) {

    public RenderedChart {
        documents = List.copyOf(documents);
    }

    public List<JsonNode> ofKind(String kind) {
        return documents.stream().filter(d -> kind.equals(d.path("kind").asString(""))).toList();
    }

    public Optional<JsonNode> find(String kind, String name) {
        return ofKind(kind).stream().filter(d -> name.equals(d.path("metadata").path("name").asString(""))).findFirst();
    }

    public JsonNode daemonSet() {
        List<JsonNode> daemonSets = ofKind("DaemonSet");
        if (daemonSets.size() != 1) {
            throw new IllegalStateException("the chart renders " + daemonSets.size() + " DaemonSets, expected one");
        }
        return daemonSets.get(0);
    }

    public JsonNode podTemplate() {
        return daemonSet().path("spec").path("template");
    }

    /** The {@code data} of every rendered ConfigMap, by name. */
    public Map<String, Map<String, String>> configMapData() {
        return dataOf("ConfigMap");
    }

    /** The decoded {@code data} (and {@code stringData}) of every rendered Secret, by name. */
    public Map<String, Map<String, String>> secretData() {
        return dataOf("Secret");
    }

    private Map<String, Map<String, String>> dataOf(String kind) {
        Map<String, Map<String, String>> all = new LinkedHashMap<>();
        for (JsonNode object : ofKind(kind)) {
            Map<String, String> data = new LinkedHashMap<>();
            boolean base64 = "Secret".equals(kind);
            object.path("data").properties().forEach(e -> data.put(e.getKey(), base64
                    ? new String(java.util.Base64.getDecoder().decode(e.getValue().asString()),
                    java.nio.charset.StandardCharsets.UTF_8) : e.getValue().asString()));
            object.path("stringData").properties().forEach(e -> data.put(e.getKey(), e.getValue().asString()));
            all.put(object.path("metadata").path("name").asString(), data);
        }
        return all;
    }
}
