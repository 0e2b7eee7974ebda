package io.driftagent.agent.policysource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import org.junit.jupiter.api.Test;

/** A DriftPolicy resource is validated by the policy file's loader: same codes, paths in the resource's terms. */
class ResourcePolicyReaderTest {
    private final ResourcePolicyReader reader = new ResourcePolicyReader();

    @Test
    void aValidSpecGivesItsRulesPriorityAndWhetherItStatesADefaultRule() {
        GenericKubernetesResource resource = Policies.resource("shop", """
                priority: 20
                rules:
                  - {name: a, priority: 1, action: alert}
                """);
        resource.getMetadata().setGeneration(3L);

        ResourceValidation validation = reader.read(resource);

        assertThat(validation.problems()).isEmpty();
        ResourcePolicy policy = validation.policy().orElseThrow();
        assertThat(policy.priority()).isEqualTo(20);
        assertThat(policy.generation()).isEqualTo(3);
        assertThat(policy.statesDefaultRule()).isFalse();
        assertThat(policy.policy().rules()).extracting(r -> r.name()).containsExactly("a");
    }

    @Test
    void everyProblemHasTheLoadersCodeAndItsPathInTheResourceWithALineAndColumnOfTheDerivedDocument() {
        // given a spec with mistakes of the loader's kinds (the mock API server, like an API server without the
        // CRD's schema, stores anything)
        GenericKubernetesResource resource = Policies.resource("bad", """
                priority: 1
                rules:
                  - name: a
                    priority: 1
                    action: alarm
                    resourceScope:
                      - {field: namespace, operator: regex, values: ["(a)\\\\1"]}
                  - name: a
                    priority: 2
                    action: alert
                    onTimeout: allow
                colour: blue
                """);

        // when it is read
        ResourceValidation validation = reader.read(resource);

        // then it is rejected with every problem, located in the resource
        assertThat(validation.valid()).isFalse();
        assertThat(validation.problems()).extracting(Problem::code, Problem::path).containsExactlyInAnyOrder(
                tuple(ProblemCode.UNKNOWN_ACTION, "spec.rules[0].action"),
                tuple(ProblemCode.INVALID_REGEX, "spec.rules[0].resourceScope[0].values[0]"),
                tuple(ProblemCode.DUPLICATE_RULE_NAME, "spec.rules[1].name"),
                tuple(ProblemCode.ON_TIMEOUT_WITHOUT_BLOCK, "spec.rules[1].onTimeout"),
                tuple(ProblemCode.UNKNOWN_KEY, "spec.colour"));
        Problem action = validation.problems().stream().filter(p -> p.code() == ProblemCode.UNKNOWN_ACTION)
                .findFirst().orElseThrow();
        // the derived document: apiVersion, kind, then "rules:", "- name: ...", "  priority: ...", "  action: ..."
        assertThat(action.line()).isEqualTo(6);
        assertThat(action.column()).isEqualTo(11);
        assertThat(action.file()).isEqualTo("driftpolicy/bad");
        assertThat(action.toString()).contains("UNKNOWN_ACTION").contains("(at spec.rules[0].action)");
    }

    @Test
    void priorityIsRequiredAndA32BitInteger() {
        assertThat(reader.read(Policies.resource("none", "rules: []\n")).problems())
                .extracting(Problem::code, Problem::path).containsExactly(tuple(ProblemCode.MISSING_KEY, "spec.priority"));
        assertThat(reader.read(Policies.resource("text", "priority: \"high\"\n")).problems())
                .extracting(Problem::code, Problem::path).containsExactly(tuple(ProblemCode.WRONG_TYPE, "spec.priority"));
        assertThat(reader.read(Policies.resource("big", "priority: 4294967296\n")).problems())
                .extracting(Problem::code).containsExactly(ProblemCode.WRONG_TYPE);
    }

    @Test
    void aResourceWithoutASpecIsRejectedNotThrown() {
        GenericKubernetesResource resource = Policies.resource("empty", "priority: 1\n");
        resource.getAdditionalProperties().remove("spec");

        assertThat(reader.read(resource).problems()).extracting(Problem::code, Problem::path)
                .containsExactly(tuple(ProblemCode.MISSING_KEY, "spec"));
    }
}
