package io.driftagent.agent.policysource;

import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import io.driftagent.policy.model.DriftPolicy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * Validates a DriftPolicy resource with the policy file's own loader, so a resource gets the same problem codes as a
 * file. The loader reads the policy document derived from the resource: {@code apiVersion: drift.agent/v1},
 * {@code kind: DriftPolicy}, then the spec's keys but {@code priority}, in the order the API server returned them,
 * as block YAML. Problem paths are put in the resource's terms ({@code rules[0].action} becomes
 * {@code spec.rules[0].action}); lines and columns stay those of the derived document (a resource has no source
 * file once the API server stored it). {@code spec.priority} is checked here: a 32-bit integer, required.
 * Stateless and thread-safe.
 */
public final class ResourcePolicyReader {
    private static final String HEADER = "apiVersion: " + DriftPolicy.API_VERSION + "\nkind: " + DriftPolicy.KIND + "\n";
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER)
            .build();

    private final PolicyLoader loader;

    public ResourcePolicyReader() {
        this(new PolicyLoader());
    }

    public ResourcePolicyReader(PolicyLoader loader) {
        this.loader = Objects.requireNonNull(loader, "loader");
    }

    /** The source name problems carry: {@code driftpolicy/NAME}. */
    public static String sourceName(String name) {
        return DriftPolicyResources.SINGULAR + "/" + name;
    }

    public ResourceValidation read(GenericKubernetesResource resource) {
        String name = resource.getMetadata().getName();
        Long generationField = resource.getMetadata().getGeneration();
        long generation = generationField == null ? 0 : generationField;
        String source = sourceName(name);
        List<Problem> problems = new ArrayList<>();

        Object specObject = resource.getAdditionalProperties().get("spec");
        if (!(specObject instanceof Map<?, ?> spec)) {
            problems.add(error(specObject == null ? ProblemCode.MISSING_KEY : ProblemCode.WRONG_TYPE, source, "spec",
                    specObject == null ? "missing required key 'spec'" : "expected a mapping, found " + describe(specObject)));
            return new ResourceValidation(name, generation, Optional.empty(), problems);
        }
        Integer priority = priority(spec.get("priority"), source, problems);

        Map<Object, Object> document = new LinkedHashMap<>(spec);
        document.remove("priority");
        PolicyLoadResult loaded;
        try {
            String yaml = HEADER + (document.isEmpty() ? "" : YAML.writeValueAsString(document));
            loaded = loader.load(source, yaml.getBytes(StandardCharsets.UTF_8));
        } catch (JacksonException e) {
            problems.add(error(ProblemCode.WRONG_TYPE, source, "spec", "the spec cannot be written as a policy"
                    + " document: " + e.getOriginalMessage()));
            return new ResourceValidation(name, generation, Optional.empty(), problems);
        }
        for (Problem problem : loaded.problems()) {
            problems.add(new Problem(problem.severity(), problem.code(), problem.file(), problem.line(),
                    problem.column(), problem.path().isEmpty() ? "spec" : "spec." + problem.path(), problem.message()));
        }
        if (priority == null || loaded.policy().isEmpty()) {
            return new ResourceValidation(name, generation, Optional.empty(), problems);
        }
        ResourcePolicy policy = new ResourcePolicy(name, generation, priority, loaded.policy().get().source(),
                spec.containsKey("defaultRule"));
        return new ResourceValidation(name, generation, Optional.of(policy), problems);
    }

    private static Integer priority(Object value, String source, List<Problem> problems) {
        if (value == null) {
            problems.add(error(ProblemCode.MISSING_KEY, source, "spec.priority", "missing required key 'priority'"
                    + " (where this resource's rules go among the others: lowest first)"));
            return null;
        }
        if ((value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger)
                && new java.math.BigInteger(value.toString()).bitLength() < 32) {
            return ((Number) value).intValue();
        }
        problems.add(error(ProblemCode.WRONG_TYPE, source, "spec.priority", "expected an integer between "
                + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE + ", found " + describe(value)));
        return null;
    }

    private static String describe(Object value) {
        if (value instanceof String text) {
            return "the string '" + text + "'";
        }
        if (value instanceof Map) {
            return "a mapping";
        }
        if (value instanceof List) {
            return "a sequence";
        }
        return String.valueOf(value);
    }

    private static Problem error(ProblemCode code, String source, String path, String message) {
        return new Problem(code.severity(), code, source, 1, 1, path, message);
    }
}
