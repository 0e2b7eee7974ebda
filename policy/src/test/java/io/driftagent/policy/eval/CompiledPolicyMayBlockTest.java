package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.model.Action;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CompiledPolicyMayBlockTest {

    private static CompiledPolicy load(String yaml) {
        var result = new PolicyLoader().load("test.yaml", yaml.getBytes(StandardCharsets.UTF_8));
        return result.policy().orElseThrow(() -> new AssertionError(result.problems().toString()));
    }

    @Test
    void aPolicyWithABlockRuleMayBlock() {
        assertThat(load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: block-prod
                    priority: 1
                    action: block
                    resourceScope:
                      - field: namespace
                        operator: equals
                        values: ["prod"]
                defaultRule:
                  action: alert
                """).mayBlock()).isTrue();
    }

    @Test
    void aBlockingDefaultRuleMayBlock() {
        assertThat(CompiledPolicy.defaultOnly(Action.BLOCK).mayBlock()).isTrue();
    }

    @Test
    void alertAndIgnoreOnlyNeverBlock() {
        assertThat(load("""
                apiVersion: drift.agent/v1
                kind: DriftPolicy
                rules:
                  - name: quiet-system
                    priority: 1
                    action: ignore
                    resourceScope:
                      - field: namespace
                        operator: equals
                        values: ["kube-system"]
                defaultRule:
                  action: alert
                """).mayBlock()).isFalse();
        assertThat(CompiledPolicy.defaultOnly(Action.IGNORE).mayBlock()).isFalse();
    }
}
