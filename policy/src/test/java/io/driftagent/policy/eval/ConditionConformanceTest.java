package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.PolicyYaml;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every resource field with every operator, case handling and the label forms, one row per behaviour. */
class ConditionConformanceTest {

    private static final Map<String, String> LABELS = Map.of(
            "app", "web", "tier", "frontend", "version", "1.25.3", "selector", "a=b");

    @ParameterizedTest(name = "{0} {1} {2} (ignoreCase {3}) on ''{4}'' -> {5}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            containerName | equals     | nginx                              | false | nginx          | true
            containerName | equals     | nginx                              | false | nginx-main     | false
            containerName | equals     | NGINX                              | false | nginx          | false
            containerName | equals     | NGINX                              | true  | nginx          | true
            containerName | startsWith | ngi                                | false | nginx          | true
            containerName | startsWith | gin                                | false | nginx          | false
            containerName | startsWith | NGI                                | true  | nginx          | true
            containerName | endsWith   | inx                                | false | nginx          | true
            containerName | endsWith   | ngi                                | false | nginx          | false
            containerName | endsWith   | INX                                | true  | nginx          | true
            containerName | contains   | gin                                | false | nginx          | true
            containerName | contains   | gni                                | false | nginx          | false
            containerName | contains   | GIN                                | true  | nginx          | true
            containerName | glob       | ng*x                               | false | nginx          | true
            containerName | glob       | ng?                                | false | nginx          | false
            containerName | glob       | NG*                                | true  | nginx          | true
            containerName | regex      | ngi.x                              | false | nginx          | true
            containerName | regex      | ngi                                | false | nginx          | false
            containerName | regex      | NGINX                              | true  | nginx          | true
            imageName     | equals     | registry.example.com/team/nginx:1.25 | false | registry.example.com/team/nginx:1.25 | true
            imageName     | equals     | nginx:1.25                         | false | registry.example.com/team/nginx:1.25 | false
            imageName     | startsWith | registry.example.com/              | false | registry.example.com/team/nginx:1.25 | true
            imageName     | startsWith | docker.io/                         | false | registry.example.com/team/nginx:1.25 | false
            imageName     | endsWith   | :1.25                              | false | registry.example.com/team/nginx:1.25 | true
            imageName     | endsWith   | :latest                            | false | registry.example.com/team/nginx:1.25 | false
            imageName     | contains   | /team/                             | false | registry.example.com/team/nginx:1.25 | true
            imageName     | contains   | /other/                            | false | registry.example.com/team/nginx:1.25 | false
            imageName     | glob       | registry.example.com/*/nginx:*     | false | registry.example.com/team/nginx:1.25 | true
            imageName     | glob       | registry.example.com/*:1.25        | false | registry.example.com/team/nginx:1.25 | false
            imageName     | glob       | registry.example.com/**:1.25       | false | registry.example.com/team/nginx:1.25 | true
            imageName     | glob       | REGISTRY.example.com/**            | true  | registry.example.com/team/nginx:1.25 | true
            imageName     | regex      | .*/nginx:1\\.2[0-9]                | false | registry.example.com/team/nginx:1.25 | true
            imageName     | regex      | nginx                              | false | registry.example.com/team/nginx:1.25 | false
            namespace     | equals     | kube-system                        | false | kube-system    | true
            namespace     | equals     | KUBE-SYSTEM                        | false | kube-system    | false
            namespace     | equals     | KUBE-SYSTEM                        | true  | kube-system    | true
            namespace     | startsWith | kube-                              | false | kube-system    | true
            namespace     | startsWith | shop-                              | false | kube-system    | false
            namespace     | endsWith   | -system                            | false | kube-system    | true
            namespace     | endsWith   | -public                            | false | kube-system    | false
            namespace     | contains   | be-sy                              | false | kube-system    | true
            namespace     | contains   | xyz                                | false | kube-system    | false
            namespace     | glob       | kube-*                             | false | kube-system    | true
            namespace     | glob       | kube                               | false | kube-system    | false
            namespace     | regex      | "kube-(system|public)"             | false | kube-system    | true
            namespace     | regex      | "kube-(node|public)"               | false | kube-system    | false
            podName       | equals     | web-7d9f                           | false | web-7d9f       | true
            podName       | equals     | web                                | false | web-7d9f       | false
            podName       | startsWith | web-                               | false | web-7d9f       | true
            podName       | startsWith | api-                               | false | web-7d9f       | false
            podName       | endsWith   | 7d9f                               | false | web-7d9f       | true
            podName       | endsWith   | 7D9F                               | false | web-7d9f       | false
            podName       | endsWith   | 7D9F                               | true  | web-7d9f       | true
            podName       | contains   | b-7                                | false | web-7d9f       | true
            podName       | contains   | b-8                                | false | web-7d9f       | false
            podName       | glob       | web-????                           | false | web-7d9f       | true
            podName       | glob       | web-???                            | false | web-7d9f       | false
            podName       | regex      | web-[0-9a-f]{4}                    | false | web-7d9f       | true
            podName       | regex      | web-[0-9]{4}                       | false | web-7d9f       | false
            clusterName   | equals     | prod-eu-1                          | false | prod-eu-1      | true
            clusterName   | equals     | prod                               | false | prod-eu-1      | false
            clusterName   | startsWith | prod-                              | false | prod-eu-1      | true
            clusterName   | startsWith | dev-                               | false | prod-eu-1      | false
            clusterName   | endsWith   | -1                                 | false | prod-eu-1      | true
            clusterName   | endsWith   | -2                                 | false | prod-eu-1      | false
            clusterName   | contains   | eu                                 | false | prod-eu-1      | true
            clusterName   | contains   | EU                                 | false | prod-eu-1      | false
            clusterName   | contains   | EU                                 | true  | prod-eu-1      | true
            clusterName   | glob       | prod-*-1                           | false | prod-eu-1      | true
            clusterName   | glob       | dev-*                              | false | prod-eu-1      | false
            clusterName   | regex      | "prod-(eu|us)-[0-9]+"              | false | prod-eu-1      | true
            clusterName   | regex      | dev-.*                             | false | prod-eu-1      | false
            """)
    void stringFieldConditionMatchesAsSpecified(String field, String operator, String value, boolean ignoreCase,
                                                String fact, boolean expectedMatch) {
        // given a rule with that single condition
        CompiledPolicy policy = PolicyYaml.oneAlertRule("    resourceScope:\n      - field: " + field
                + "\n        operator: " + operator + "\n        values: ['" + value.replace("\\\\", "\\")
                + "']\n        ignoreCase: " + ignoreCase + "\n");
        // when an exec with that fact is evaluated
        Verdict verdict = policy.evaluate(withField(field, fact).build());
        // then the rule decides exactly when the condition matches
        assertThat(verdict.decision()).isEqualTo(expectedMatch ? Verdict.Decision.ALERT : Verdict.Decision.IGNORE);
        assertThat(verdict.defaultRule()).isEqualTo(!expectedMatch);
    }

    @ParameterizedTest(name = "podLabels {0} {1} (ignoreCase {2}) -> {3}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            equals     | app=web                  | false | true
            equals     | app=api                  | false | false
            equals     | app=WEB                  | false | false
            equals     | app=WEB                  | true  | true
            equals     | APP=web                  | true  | false
            equals     | app                      | false | true
            equals     | owner                    | false | false
            equals     | owner=team               | false | false
            equals     | app=api,tier=frontend    | false | true
            equals     | app=api,owner            | false | false
            equals     | selector=a=b             | false | true
            equals     | app=                     | false | false
            startsWith | version=1.25             | false | true
            startsWith | version=2.               | false | false
            endsWith   | version=.3               | false | true
            endsWith   | version=.4               | false | false
            contains   | version=25               | false | true
            contains   | version=26               | false | false
            glob       | version=1.*              | false | true
            glob       | version=2.*              | false | false
            glob       | tier                     | false | true
            regex      | version=1\\.25\\.[0-9]+  | false | true
            regex      | version=1\\.24\\..*      | false | false
            regex      | APP=.*                   | false | false
            """)
    void labelConditionMatchesAsSpecified(String operator, String values, boolean ignoreCase, boolean expectedMatch) {
        // given a podLabels condition ("key=value" applies the operator to the value, "key" means present)
        StringBuilder list = new StringBuilder();
        for (String value : values.split(",")) {
            list.append(list.length() == 0 ? "" : ", ").append('\'').append(value.replace("\\\\", "\\")).append('\'');
        }
        CompiledPolicy policy = PolicyYaml.oneAlertRule("    resourceScope:\n      - field: podLabels\n        operator: "
                + operator + "\n        values: [" + list + "]\n        ignoreCase: " + ignoreCase + "\n");
        // when the pod is labelled app=web, tier=frontend, version=1.25.3, selector=a=b
        Verdict verdict = policy.evaluate(Facts.exec().labels(LABELS).build());
        // then
        assertThat(verdict.decision()).isEqualTo(expectedMatch ? Verdict.Decision.ALERT : Verdict.Decision.IGNORE);
    }

    private static Facts withField(String field, String value) {
        Facts facts = Facts.exec();
        switch (field) {
            case "containerName":
                return facts.container(value);
            case "imageName":
                return facts.image(value);
            case "namespace":
                return facts.namespace(value);
            case "podName":
                return facts.pod(value);
            case "clusterName":
                return facts.cluster(value);
            default:
                throw new IllegalArgumentException(field);
        }
    }
}
