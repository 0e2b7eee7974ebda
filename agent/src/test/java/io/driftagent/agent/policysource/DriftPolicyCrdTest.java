package io.driftagent.agent.policysource;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The CRD the chart ships is exactly what the generator derives from the policy model, so the two cannot drift apart.
 * With {@code -Ddrift.crd.update=true} the test rewrites the chart's copy first (then passes).
 */
class DriftPolicyCrdTest {
    static final Path SHIPPED = Path.of("..").resolve(DriftPolicyCrd.CHART_FILE).toAbsolutePath().normalize();

    @Test
    void theChartsCrdIsTheOneGeneratedFromThePolicyModel() throws IOException {
        // given the CRD generated from the model (written next to the build output for a diff)
        String generated = DriftPolicyCrd.yaml();
        Path copy = Path.of("target", "crd-driftpolicies.generated.yaml");
        Files.createDirectories(copy.getParent());
        Files.writeString(copy, generated, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("drift.crd.update")) {
            Files.writeString(SHIPPED, generated, StandardCharsets.UTF_8);
        }

        // when the chart's copy is read
        String shipped = Files.exists(SHIPPED) ? Files.readString(SHIPPED, StandardCharsets.UTF_8) : "";

        // then they are the same, byte for byte
        assertThat(shipped).as("%s differs from the generated %s: regenerate it (see the file's header)", SHIPPED,
                copy.toAbsolutePath()).isEqualTo(generated);
    }

    @Test
    void theCrdIsAClusterScopedResourceWithAStatusSubresourceAndAStructuralSchema() throws IOException {
        // given the shipped CRD read as Kubernetes' own type
        CustomResourceDefinition crd = new KubernetesSerialization().unmarshal(
                Files.readString(SHIPPED, StandardCharsets.UTF_8), CustomResourceDefinition.class);

        // then it names the resource the agent watches, with a status subresource
        assertThat(crd.getMetadata().getName()).isEqualTo("driftpolicies.drift-agent.io");
        assertThat(crd.getSpec().getScope()).isEqualTo("Cluster");
        assertThat(crd.getSpec().getNames().getKind()).isEqualTo("DriftPolicy");
        CustomResourceDefinitionVersion version = crd.getSpec().getVersions().get(0);
        assertThat(version.getName()).isEqualTo("v1alpha1");
        assertThat(version.getSubresources().getStatus()).isNotNull();
        // and a schema in which every object says what it holds (the API server requires a structural schema)
        JSONSchemaProps spec = version.getSchema().getOpenAPIV3Schema().getProperties().get("spec");
        assertThat(spec.getRequired()).containsExactly("priority");
        JSONSchemaProps rule = spec.getProperties().get("rules").getItems().getSchema();
        assertThat(rule.getRequired()).containsExactly("name", "priority", "action");
        assertThat(rule.getProperties().get("action").getEnum()).extracting(n -> n.asString())
                .containsExactly("alert", "block", "ignore");
        assertEveryObjectHasProperties(version.getSchema().getOpenAPIV3Schema(), "openAPIV3Schema");
    }

    private static void assertEveryObjectHasProperties(JSONSchemaProps schema, String where) {
        assertThat(schema.getType()).as(where + ".type").isNotBlank();
        if ("object".equals(schema.getType()) && !where.endsWith(".metadata") && !where.endsWith(".subresources")) {
            assertThat(schema.getProperties()).as(where + ".properties").isNotEmpty();
            schema.getProperties().forEach((key, child) -> assertEveryObjectHasProperties(child, where + "." + key));
        }
        if ("array".equals(schema.getType())) {
            assertEveryObjectHasProperties(schema.getItems().getSchema(), where + "[]");
        }
    }
}
