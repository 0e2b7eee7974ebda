package io.driftagent.policy.schema;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;

/**
 * The schema derived from the model agrees with the loader: a document with every key of the schema loads, each
 * required key's absence is the loader's MISSING_KEY and each optional key's absence is fine, and the keys the loader
 * allows in each mapping are exactly the schema's properties.
 */
class PolicySchemaTest {

    /** A key of a mapping inside the sample document, and the mapping's schema. */
    private record Site(List<Object> path, String key, boolean required) {
    }

    @Test
    void aDocumentHoldingEveryKeyOfTheSchemaLoadsWithoutAnError() {
        // given a document with every property of the schema filled with a value the schema allows
        Map<String, Object> document = sampleDocument();

        // when it is loaded
        PolicyLoadResult result = load(document);

        // then it is valid
        assertThat(result.errors()).isEmpty();
        assertThat(result.policy()).isPresent();
    }

    @Test
    void withoutARequiredKeyTheLoaderReportsMissingKeyThereAndWithoutAnOptionalOneTheDocumentStillLoads() {
        List<Site> sites = new ArrayList<>();
        collectSites(schemaOfDocument(), new ArrayList<>(), sites);
        assertThat(sites).extracting(Site::key).contains("name", "priority", "action", "provider", "field", "operator",
                "values", "allowList", "onTimeout", "ignoreCase", "accounts");

        for (Site site : sites) {
            // given the sample document without this one key
            Map<String, Object> document = sampleDocument();
            mappingAt(document, site.path()).remove(site.key());

            // when it is loaded
            PolicyLoadResult result = load(document);

            // then a required key is missing at its path, an optional one is no error
            String where = pathText(site.path(), site.key());
            if (site.required()) {
                assertThat(result.errors()).as(where).extracting(Problem::code, Problem::path)
                        .contains(org.assertj.core.groups.Tuple.tuple(ProblemCode.MISSING_KEY, where));
            } else {
                assertThat(result.errors()).as(where).isEmpty();
            }
        }
    }

    @Test
    void theKeysTheLoaderAllowsInEachMappingAreExactlyTheSchemasProperties() {
        List<Object> ruleMappings = List.of(List.of("rules", 0), List.of("rules", 0, "cloudScope", 0),
                List.of("rules", 0, "resourceScope", 0), List.of("defaultRule"));
        for (Object pathObject : ruleMappings) {
            @SuppressWarnings("unchecked")
            List<Object> path = (List<Object>) pathObject;
            // given the sample with an unknown key in that mapping
            Map<String, Object> document = sampleDocument();
            mappingAt(document, path).put("zzUnknown", "x");

            // when it is loaded, the loader names the keys it allows there
            Problem unknown = load(document).errors().stream().filter(p -> p.code() == ProblemCode.UNKNOWN_KEY)
                    .findFirst().orElseThrow();
            String allowed = unknown.message().replaceAll(".*allowed here: \\[([^]]*)].*", "$1");

            // then they are the schema's properties of that mapping, in the same order
            assertThat(Arrays.asList(allowed.split(", "))).as(pathText(path, ""))
                    .containsExactlyElementsOf(propertiesAt(schemaOfDocument(), path).keySet());
        }
    }

    @Test
    void closedSetsAreTheWireNamesAndImageIsNotADriftKind() {
        assertThat(PolicySchema.wireNames(io.driftagent.policy.model.Action.class))
                .containsExactly("alert", "block", "ignore");
        assertThat(PolicySchema.wireNames(io.driftagent.policy.model.MatchOperator.class))
                .containsExactly("equals", "startsWith", "endsWith", "contains", "glob", "regex");
        assertThat(PolicySchema.wireNames(io.driftagent.policy.model.DriftKind.class))
                .containsExactly("ADDED", "MODIFIED", "MOUNT", "FILELESS", "UNRESOLVED");
    }

    // ---- the sample document ----------------------------------------------------------------------------------

    private static Map<String, Object> schemaOfDocument() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("rules", PolicySchema.rules());
        properties.put("defaultRule", PolicySchema.defaultRule());
        return Map.of("type", "object", "properties", properties);
    }

    private static Map<String, Object> sampleDocument() {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("apiVersion", "drift.agent/v1");
        document.put("kind", "DriftPolicy");
        @SuppressWarnings("unchecked")
        Map<String, Object> body = (Map<String, Object>) sample(schemaOfDocument(), "");
        document.putAll(body);
        return document;
    }

    /** A value the schema allows; {@code key} picks values the loader needs beyond the schema. */
    @SuppressWarnings("unchecked")
    private static Object sample(Map<String, Object> schema, String key) {
        switch ((String) schema.get("type")) {
            case "object": {
                Map<String, Object> value = new LinkedHashMap<>();
                ((Map<String, Map<String, Object>>) schema.get("properties")).forEach((k, s) -> value.put(k, sample(s, k)));
                return value;
            }
            case "array":
                return new ArrayList<>(List.of(sample((Map<String, Object>) schema.get("items"), key)));
            case "integer":
                return 7;
            case "boolean":
                return true;
            default:
                if (key.equals("action")) {
                    return "block"; // onTimeout, also in the sample, needs a block rule
                }
                if (schema.containsKey("enum")) {
                    return ((List<String>) schema.get("enum")).get(0);
                }
                return key.equals("allowList") ? "/usr/bin/apt-get" : "x";
        }
    }

    @SuppressWarnings("unchecked")
    private static void collectSites(Map<String, Object> schema, List<Object> path, List<Site> sites) {
        if ("array".equals(schema.get("type"))) {
            List<Object> item = new ArrayList<>(path);
            item.add(0);
            collectSites((Map<String, Object>) schema.get("items"), item, sites);
        } else if ("object".equals(schema.get("type"))) {
            List<String> required = (List<String>) schema.getOrDefault("required", List.of());
            ((Map<String, Map<String, Object>>) schema.get("properties")).forEach((key, child) -> {
                if (!path.isEmpty()) {
                    sites.add(new Site(path, key, required.contains(key)));
                }
                List<Object> childPath = new ArrayList<>(path);
                childPath.add(key);
                collectSites(child, childPath, sites);
            });
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mappingAt(Map<String, Object> document, List<Object> path) {
        Object node = document;
        for (Object step : path) {
            node = step instanceof Integer i ? ((List<Object>) node).get(i) : ((Map<String, Object>) node).get(step);
        }
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> propertiesAt(Map<String, Object> schema, List<Object> path) {
        Map<String, Object> node = schema;
        for (Object step : path) {
            node = step instanceof Integer ? (Map<String, Object>) node.get("items")
                    : (Map<String, Object>) ((Map<String, Object>) node.get("properties")).get(step);
        }
        return (Map<String, Object>) node.get("properties");
    }

    private static String pathText(List<Object> path, String key) {
        StringBuilder text = new StringBuilder();
        for (Object step : path) {
            if (step instanceof Integer i) {
                text.append('[').append(i).append(']');
            } else {
                text.append(text.length() == 0 ? "" : ".").append(step);
            }
        }
        return key.isEmpty() ? text.toString() : text + (text.length() == 0 ? "" : ".") + key;
    }

    private static PolicyLoadResult load(Map<String, Object> document) {
        String yaml = new Dump(DumpSettings.builder().build()).dumpToString(document);
        return new PolicyLoader().load("sample.yaml", yaml.getBytes(StandardCharsets.UTF_8));
    }
}
