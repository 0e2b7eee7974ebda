package io.driftagent.policy.bench;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.model.DriftKind;
import java.util.Map;

/** Generated policies for the benchmarks and the allocation test. */
public final class BenchmarkPolicies {
    private BenchmarkPolicies() {
    }

    /**
     * {@code ruleCount} rules of mixed shapes (equals with several values, label selectors, prefixes, cloud scope with
     * accounts plus a glob, drift-kind narrowing plus a regex, case-insensitive suffixes); only the last one matches
     * {@link #matchingExec()}, and its allow list does not hold the executed file.
     */
    public static String policy(int ruleCount) {
        return policy(ruleCount, Shape.MIXED);
    }

    /** What the rules before the last one look like. */
    public enum Shape {
        /** Six rule shapes in turn (see {@link #policy(int)}). */
        MIXED,
        /** Every rule: one namespace equals condition, as in namespace-per-team policies. */
        NAMESPACE_EQUALS
    }

    public static String policy(int ruleCount, Shape shape) {
        StringBuilder yaml = new StringBuilder("apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules:\n");
        for (int i = 0; i < ruleCount - 1; i++) {
            yaml.append("  - name: rule-").append(i).append("\n    priority: ").append(i).append("\n    action: block\n");
            switch (shape == Shape.NAMESPACE_EQUALS ? 0 : i % 6) {
                case 0:
                    condition(yaml, "namespace", "equals", shape == Shape.NAMESPACE_EQUALS ? "ns-" + i
                            : "ns-" + i + "', 'other-" + i + "', 'third-" + i, false);
                    break;
                case 1:
                    condition(yaml, "podLabels", "equals", "app=app-" + i + "', 'team-" + i, false);
                    break;
                case 2:
                    condition(yaml, "imageName", "startsWith", "registry.example.com/team-" + i + "/", false);
                    break;
                case 3:
                    yaml.append("    cloudScope:\n      - provider: azure\n        accounts: ['sub-").append(i).append("']\n");
                    condition(yaml, "podName", "glob", "job-" + i + "-*", false);
                    break;
                case 4:
                    yaml.append("    driftKinds: [ADDED, MODIFIED]\n");
                    condition(yaml, "containerName", "regex", "sidecar-" + i + "-[a-z]+", false);
                    break;
                default:
                    condition(yaml, "clusterName", "endsWith", "-cluster-" + i, true);
                    break;
            }
            yaml.append("    allowList: ['/usr/bin/tool-").append(i).append("', 'name:helper-").append(i).append("']\n");
        }
        yaml.append("  - name: last\n    priority: ").append(ruleCount).append("\n    action: alert\n")
                .append("    resourceScope:\n")
                .append("      - {field: namespace, operator: equals, values: [shop]}\n")
                .append("      - {field: podLabels, operator: equals, values: ['app=web']}\n")
                .append("    allowList: ['/usr/bin/apt-get', 'glob:/opt/tools/**', 'name:pip', 'sha256:")
                .append("0".repeat(64)).append("']\n");
        return yaml.toString();
    }

    private static void condition(StringBuilder yaml, String field, String operator, String values, boolean ignoreCase) {
        yaml.append("    resourceScope:\n      - field: ").append(field).append("\n        operator: ").append(operator)
                .append("\n        values: ['").append(values).append("']\n        ignoreCase: ").append(ignoreCase).append('\n');
    }

    /** An exec only the last rule of {@link #policy} applies to. */
    public static DriftFacts matchingExec() {
        return new DriftFacts("azure", "sub-x", "prod-cluster-1", "shop", "web-7d9f", Map.of("app", "web", "tier", "frontend"),
                "nginx", "registry.example.com/shop/web:1.0", DriftKind.ADDED, "/tmp/payload", "f".repeat(64));
    }
}
