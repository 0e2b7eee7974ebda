package io.driftagent.policy;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import java.nio.charset.StandardCharsets;

/** Test helper: policies written as YAML text. */
public final class PolicyYaml {
    public static final String HEADER = "apiVersion: drift.agent/v1\nkind: DriftPolicy\n";

    private PolicyYaml() {
    }

    public static PolicyLoadResult load(String yaml) {
        return new PolicyLoader().load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8));
    }

    /** Loads a policy that must be valid; fails the test with every problem otherwise. */
    public static CompiledPolicy compile(String yaml) {
        PolicyLoadResult result = load(yaml);
        if (result.policy().isEmpty()) {
            throw new AssertionError("policy should be valid but has problems:\n" + String.join("\n",
                    result.problems().stream().map(Object::toString).toList()) + "\n---\n" + yaml);
        }
        return result.policy().get();
    }

    /** A policy with one rule deciding {@code alert} whose body (indented rule keys) is given. */
    public static CompiledPolicy oneAlertRule(String ruleBody) {
        return compile(HEADER + "rules:\n  - name: r\n    priority: 1\n    action: alert\n" + ruleBody);
    }
}
