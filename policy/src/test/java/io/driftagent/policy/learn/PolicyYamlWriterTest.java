package io.driftagent.policy.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.model.DriftPolicy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyYamlWriterTest {

    @Test
    void everyPartOfAPolicyIsWrittenSoTheLoaderReadsBackTheSamePolicy() {
        // given a policy using every key: clouds with accounts, every operator, ignoreCase, labels, kinds, every
        // allow-list form, onTimeout allow, a default block rule
        DriftPolicy policy = PolicyYaml.compile(PolicyYaml.HEADER + """
                rules:
                  - name: alert-on-kube-system
                    priority: 10
                    description: "System namespaces: alert, never block"
                    action: alert
                    cloudScope:
                      - provider: azure
                        accounts: ["00000000-1111-2222-3333-444444444444", 012345678901]
                      - provider: gcp
                    resourceScope:
                      - {field: namespace, operator: equals, values: [kube-system]}
                      - {field: podLabels, operator: equals, values: ["app=web", "tier", "selector=a=b"]}
                      - {field: imageName, operator: regex, values: ['registry\\.example\\.com/.*:\\d+'], ignoreCase: true}
                      - {field: podName, operator: glob, values: ["web-*"]}
                    driftKinds: [ADDED, MODIFIED, MOUNT, FILELESS, UNRESOLVED]
                    allowList:
                      - /usr/bin/apt-get
                      - "glob:/opt/tools/**"
                      - "name:pip"
                      - "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                  - name: block-prod
                    priority: -5
                    action: block
                    onTimeout: allow
                    resourceScope: [{field: clusterName, operator: startsWith, values: ["prod-"]}]
                    driftKinds: [MOUNT]
                defaultRule:
                  action: block
                  onTimeout: allow
                """).source();

        // when it is written and loaded again
        String yaml = new PolicyYamlWriter().write(policy, List.of("a header"), Map.of());
        PolicyLoadResult loaded = PolicyYaml.load(yaml);

        // then nothing is lost or changed, and the rules are in evaluation order
        assertThat(loaded.problems()).as(yaml).isEmpty();
        DriftPolicy again = loaded.policy().orElseThrow().source();
        assertThat(again.rules()).containsExactly(policy.rules().get(1), policy.rules().get(0));
        assertThat(again.defaultAction()).isEqualTo(policy.defaultAction());
        assertThat(again.defaultOnTimeout()).isEqualTo(policy.defaultOnTimeout());
        assertThat(yaml).startsWith("# a header\napiVersion: drift.agent/v1\n");
    }
}
