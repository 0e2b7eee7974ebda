package io.driftagent.agent.policysource;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Test helpers: policies and DriftPolicy resources written as YAML, and the facts of one drifted exec. */
final class Policies {
    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private Policies() {
    }

    /** A policy file's content (header added). */
    static DriftPolicy file(String body) {
        PolicyLoadResult result = new PolicyLoader().load("policy.yaml",
                ("apiVersion: drift.agent/v1\nkind: DriftPolicy\n" + body).getBytes(StandardCharsets.UTF_8));
        return result.policy().orElseThrow(() -> new AssertionError(result.problems().toString())).source();
    }

    /** A DriftPolicy resource whose spec is the given YAML. */
    @SuppressWarnings("unchecked")
    static GenericKubernetesResource resource(String name, String specYaml) {
        GenericKubernetesResource resource = new GenericKubernetesResource();
        resource.setApiVersion(DriftPolicyResources.API_VERSION);
        resource.setKind(DriftPolicyResources.KIND);
        resource.setMetadata(new ObjectMetaBuilder().withName(name).build());
        resource.getAdditionalProperties().put("spec", YAML.readValue(specYaml, Map.class));
        return resource;
    }

    /** A drifted exec (ADDED /tmp/x) in a pod of {@code namespace}. */
    static DriftFacts inNamespace(String namespace) {
        return new DriftFacts(null, null, null, namespace, "pod-1", Map.of(), "app", "img:1", DriftKind.ADDED,
                "/tmp/x", null);
    }
}
