package io.driftagent.systest.chart;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Renders the chart with Helm itself (helm-java embeds Helm 3), as {@code helm install} would. */
public final class ChartRenderer {

    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private final Path chart;

    public ChartRenderer(Path chart) {
        if (!Files.isRegularFile(chart.resolve("Chart.yaml"))) {
            throw new IllegalArgumentException("no chart at " + chart);
        }
        this.chart = chart;
    }

    public Path chart() {
        return chart;
    }

    /** The per-platform values files that exist ({@code values-aks.yaml}, {@code values-eks-bottlerocket.yaml}, ...). */
    public List<Path> cloudValuesFiles() throws IOException {
        try (Stream<Path> files = Files.list(chart)) {
            return files.filter(f -> f.getFileName().toString().matches("values-[a-z0-9-]+\\.yaml")).sorted().toList();
        }
    }

    /** {@code helm template <release> <chart> -n <namespace> [-f valuesFile ...] [--set k=v ...]}. */
    public RenderedChart render(String release, String namespace, List<Path> valuesFiles, Map<String, String> set)
            throws IOException {
        TemplateCommand template = new Helm(chart).template().withName(release).withNamespace(namespace);
        valuesFiles.forEach(template::withValuesFile);
        set.forEach(template::set);
        String manifests = template.call();
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(manifests)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode() && doc.has("kind")) {
                    documents.add(doc);
                }
            }
        }
        return new RenderedChart(release, namespace, documents);
    }
}
