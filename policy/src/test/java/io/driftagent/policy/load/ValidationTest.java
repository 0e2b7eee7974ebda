package io.driftagent.policy.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.driftagent.policy.PolicyYaml;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every problem kind with its exact code, position and document path. */
class ValidationTest {

    @Test
    void everyProblemInADocumentIsReportedAtOnceInFileOrder() {
        // given a policy with one mistake of each kind on known lines
        String yaml = String.join("\n",
                "apiVersion: drift.agent/v2",                             // 1
                "kind: DriftPolicy",                                       // 2
                "colour: blue",                                            // 3
                "rules:",                                                  // 4
                "  - name: a",                                             // 5
                "    priority: ten",                                       // 6
                "    action: alarm",                                       // 7
                "    cloudScope:",                                         // 8
                "      - provider: ibm",                                   // 9
                "        accounts: []",                                    // 10
                "    resourceScope:",                                      // 11
                "      - field: nodeName",                                 // 12
                "        operator: equals",                                // 13
                "        values: [x]",                                     // 14
                "      - field: namespace",                                // 15
                "        operator: like",                                  // 16
                "        values: [x]",                                     // 17
                "      - field: namespace",                                // 18
                "        operator: regex",                                 // 19
                "        values: ['(a)\\1', '[unclosed']",                 // 20
                "      - field: podName",                                  // 21
                "        operator: glob",                                  // 22
                "        values: []",                                      // 23
                "      - field: podLabels",                                // 24
                "        operator: glob",                                  // 25
                "        values: ['=web', 'app=x\\']",                     // 26  (YAML single quotes keep the backslash)
                "    driftKinds: [IMAGE, ADDDED]",                         // 27
                "    allowList:",                                          // 28
                "      - 'sha256:abc'",                                    // 29
                "      - 'glob:opt/**'",                                   // 30
                "      - relative/path",                                   // 31
                "      - 'name:a/b'",                                      // 32
                "  - name: a",                                             // 33
                "    priority: 1",                                         // 34
                "    action: block",                                       // 35
                "    prority: 2",                                          // 36
                "  - priority: 3",                                         // 37
                "    action: ignore",                                      // 38
                "defaultRule:",                                            // 39
                "  action: [alert]",                                       // 40
                "");
        // when
        PolicyLoadResult result = PolicyYaml.load(yaml);
        // then
        assertThat(result.policy()).isEmpty();
        assertThat(result.problems())
                .extracting(Problem::code, Problem::line, Problem::column, Problem::path)
                .containsExactly(
                        tuple(ProblemCode.UNSUPPORTED_API_VERSION, 1, 13, "apiVersion"),
                        tuple(ProblemCode.UNKNOWN_KEY, 3, 1, "colour"),
                        tuple(ProblemCode.WRONG_TYPE, 6, 15, "rules[0].priority"),
                        tuple(ProblemCode.UNKNOWN_ACTION, 7, 13, "rules[0].action"),
                        tuple(ProblemCode.UNKNOWN_PROVIDER, 9, 19, "rules[0].cloudScope[0].provider"),
                        tuple(ProblemCode.EMPTY_VALUES, 10, 19, "rules[0].cloudScope[0].accounts"),
                        tuple(ProblemCode.UNKNOWN_FIELD, 12, 16, "rules[0].resourceScope[0].field"),
                        tuple(ProblemCode.UNKNOWN_OPERATOR, 16, 19, "rules[0].resourceScope[1].operator"),
                        tuple(ProblemCode.INVALID_REGEX, 20, 18, "rules[0].resourceScope[2].values[0]"),
                        tuple(ProblemCode.INVALID_REGEX, 20, 27, "rules[0].resourceScope[2].values[1]"),
                        tuple(ProblemCode.EMPTY_VALUES, 23, 17, "rules[0].resourceScope[3].values"),
                        tuple(ProblemCode.INVALID_LABEL_SELECTOR, 26, 18, "rules[0].resourceScope[4].values[0]"),
                        tuple(ProblemCode.INVALID_GLOB, 26, 26, "rules[0].resourceScope[4].values[1]"),
                        tuple(ProblemCode.UNKNOWN_DRIFT_KIND, 27, 18, "rules[0].driftKinds[0]"),
                        tuple(ProblemCode.UNKNOWN_DRIFT_KIND, 27, 25, "rules[0].driftKinds[1]"),
                        tuple(ProblemCode.INVALID_SHA256, 29, 9, "rules[0].allowList[0]"),
                        tuple(ProblemCode.INVALID_GLOB, 30, 9, "rules[0].allowList[1]"),
                        tuple(ProblemCode.INVALID_ALLOW_ENTRY, 31, 9, "rules[0].allowList[2]"),
                        tuple(ProblemCode.INVALID_ALLOW_ENTRY, 32, 9, "rules[0].allowList[3]"),
                        tuple(ProblemCode.DUPLICATE_RULE_NAME, 33, 11, "rules[1].name"),
                        tuple(ProblemCode.UNKNOWN_KEY, 36, 5, "rules[1].prority"),
                        tuple(ProblemCode.MISSING_KEY, 37, 5, "rules[2].name"),
                        tuple(ProblemCode.WRONG_TYPE, 40, 11, "defaultRule.action"));
        assertThat(result.problems()).allMatch(Problem::isError);
    }

    @Test
    void messagesExplainAndSuggestAndToStringHasTheDocumentedFormat() {
        // given
        String yaml = PolicyYaml.HEADER + "rules:\n  - name: a\n    prority: 1\n    action: alert\n";
        // when
        List<Problem> problems = PolicyYaml.load(yaml).problems();
        // then
        assertThat(problems).extracting(Object::toString).containsExactly(
                "policy.yaml:4:5: MISSING_KEY: missing required key 'priority' (at rules[0].priority)",
                "policy.yaml:5:5: UNKNOWN_KEY: unknown key 'prority'; allowed here: [name, priority, description, action,"
                        + " cloudScope, resourceScope, driftKinds, allowList, onTimeout, triggers] (did you mean 'priority'?) (at rules[0].prority)");
    }

    @Test
    void missingApiVersionAndKindAreReportedAtTheRoot() {
        // when
        List<Problem> problems = PolicyYaml.load("rules: []\n").problems();
        // then
        assertThat(problems).extracting(Problem::code, Problem::line, Problem::column, Problem::path).containsExactly(
                tuple(ProblemCode.MISSING_API_VERSION, 1, 1, ""),
                tuple(ProblemCode.MISSING_KIND, 1, 1, ""));
    }

    @Test
    void wrongKindAndDuplicateKeyAreErrors() {
        // when
        List<Problem> problems = PolicyYaml.load("apiVersion: drift.agent/v1\nkind: Policy\nkind: DriftPolicy\n").problems();
        // then
        assertThat(problems).extracting(Problem::code, Problem::line, Problem::column, Problem::path).containsExactly(
                tuple(ProblemCode.WRONG_KIND, 2, 7, "kind"),
                tuple(ProblemCode.DUPLICATE_KEY, 3, 1, "kind"));
    }

    @Test
    void warningsDoNotPreventLoading() {
        // given two rules sharing a priority, and a catch-all shadowing a later rule and the default rule
        String yaml = PolicyYaml.HEADER + "rules:\n"
                + "  - name: kube\n    priority: 5\n    action: ignore\n"                       // 4-6
                + "    resourceScope: [{field: namespace, operator: equals, values: [kube-system]}]\n"
                + "  - name: everything\n    priority: 5\n    action: alert\n"                 // 8-10
                + "  - name: never\n    priority: 9\n    action: block\n"                      // 11-13
                + "defaultRule:\n  action: ignore\n";                                            // 14-15
        // when
        PolicyLoadResult result = PolicyYaml.load(yaml);
        // then
        assertThat(result.policy()).isPresent();
        assertThat(result.problems()).allMatch(p -> p.severity() == Severity.WARNING);
        assertThat(result.problems()).extracting(Problem::code, Problem::line, Problem::column, Problem::path).containsExactly(
                tuple(ProblemCode.DUPLICATE_PRIORITY, 9, 15, "rules[1].priority"),
                tuple(ProblemCode.SHADOWED_RULE, 11, 5, "rules[2]"),
                tuple(ProblemCode.SHADOWED_RULE, 15, 3, "defaultRule"));
        assertThat(result.problems().get(1).message()).contains("rule 'never' can never apply").contains("'everything'");
    }

    @Test
    void aRuleListingEveryDriftKindIsStillACatchAll() {
        // when
        PolicyLoadResult result = PolicyYaml.load(PolicyYaml.HEADER + "rules:\n"
                + "  - {name: all, priority: 1, action: alert, driftKinds: [ADDED, MODIFIED, MOUNT, FILELESS, UNRESOLVED]}\n"
                + "  - {name: later, priority: 2, action: block}\n");
        // then
        assertThat(result.problems()).extracting(Problem::code, Problem::line, Problem::column)
                .containsExactly(tuple(ProblemCode.SHADOWED_RULE, 5, 5));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            empty file                          | ""                                    | EMPTY_DOCUMENT     | 1 | 1
            only a comment                      | "# nothing"                           | EMPTY_DOCUMENT     | 1 | 1
            a list at the root                  | "- a"                                 | WRONG_TYPE         | 1 | 1
            a syntax error                      | "a: [b"                               | YAML_SYNTAX        | 1 | 6
            a tab-indented mapping              | "a:\\n\\tb: c"                         | YAML_SYNTAX        | 2 | 1
            two documents                       | "a: 1\\n---\\nb: 2"                     | MULTIPLE_DOCUMENTS | 2 | 1
            an alias                            | "a: &x [1]\\nb: *x"                     | ALIAS_LIMIT        | 2 | 4
            deep nesting                        | DEEP                                  | TOO_DEEP           | 1 | 33
            """)
    void structuralProblemsStopTheReaderWithOnePositionedProblem(String name, String yaml, ProblemCode code, int line, int column) {
        // given
        String text = yaml.equals("DEEP") ? "[".repeat(40) + "]".repeat(40) : yaml.replace("\\n", "\n").replace("\\t", "\t");
        // when
        PolicyLoadResult result = PolicyYaml.load(text);
        // then
        assertThat(result.policy()).isEmpty();
        assertThat(result.problems()).extracting(Problem::code, Problem::line, Problem::column).containsExactly(tuple(code, line, column));
    }

    @Test
    void oversizedContentIsRejectedBeforeParsing() {
        // given
        byte[] huge = new byte[LoadLimits.DEFAULT.maxBytes() + 1];
        // when
        PolicyLoadResult result = new PolicyLoader().load("big.yaml", huge);
        // then
        assertThat(result.problems()).extracting(Problem::toString)
                .containsExactly("big.yaml:1:1: TOO_LARGE: the file is larger than 1048576 bytes");
    }

    @Test
    void invalidUtf8IsReportedWithItsPosition() {
        // given a Latin-1 'é' on line 2
        byte[] content = (PolicyYaml.HEADER.replace("kind", "ki\u00e9d")).getBytes(StandardCharsets.ISO_8859_1);
        // when
        PolicyLoadResult result = new PolicyLoader().load("latin1.yaml", content);
        // then
        assertThat(result.problems()).extracting(Problem::code, Problem::line, Problem::column)
                .containsExactly(tuple(ProblemCode.NOT_UTF8, 2, 3));
    }

    @Test
    void utf16IsNotUtf8() {
        // when
        PolicyLoadResult result = new PolicyLoader().load("u16.yaml", PolicyYaml.HEADER.getBytes(StandardCharsets.UTF_16));
        // then
        assertThat(result.problems()).extracting(Problem::code).containsExactly(ProblemCode.NOT_UTF8);
    }

    @Test
    void aUtf8ByteOrderMarkIsAccepted() {
        // given
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] body = PolicyYaml.HEADER.getBytes(StandardCharsets.UTF_8);
        byte[] content = new byte[bom.length + body.length];
        System.arraycopy(bom, 0, content, 0, 3);
        System.arraycopy(body, 0, content, 3, body.length);
        // when
        PolicyLoadResult result = new PolicyLoader().load("bom.yaml", content);
        // then
        assertThat(result.problems()).isEmpty();
        assertThat(result.policy()).isPresent();
    }

    @Test
    void aMissingFileAndADirectoryAreUnreadable(@TempDir Path dir) {
        // when
        PolicyLoadResult missing = new PolicyLoader().load(dir.resolve("nope.yaml"));
        PolicyLoadResult directory = new PolicyLoader().load(dir);
        // then
        assertThat(missing.problems()).extracting(Problem::code).containsExactly(ProblemCode.UNREADABLE);
        assertThat(directory.problems()).extracting(Problem::code).containsExactly(ProblemCode.UNREADABLE);
    }

    @Test
    void aFileIsLoadedWithItsPathAsSourceName(@TempDir Path dir) throws Exception {
        // given
        Path file = dir.resolve("p.yaml");
        Files.writeString(file, PolicyYaml.HEADER + "rules:\n  - {name: x, priority: one, action: alert}\n");
        // when
        PolicyLoadResult result = new PolicyLoader().load(file);
        // then
        assertThat(result.problems()).extracting(Problem::toString).containsExactly(file + ":4:25: WRONG_TYPE: "
                + "expected an integer, found a string (at rules[0].priority)");
    }

    @Test
    void integerPrioritiesOutside32BitsAreRejected() {
        // when
        PolicyLoadResult result = PolicyYaml.load(PolicyYaml.HEADER + "rules:\n  - {name: x, priority: 4294967296, action: alert}\n");
        // then
        assertThat(result.problems()).extracting(Problem::code, Problem::path).containsExactly(tuple(ProblemCode.WRONG_TYPE, "rules[0].priority"));
    }

    @Test
    void reservedAndBlankRuleNamesAreInvalid() {
        // when
        PolicyLoadResult result = PolicyYaml.load(PolicyYaml.HEADER + "rules:\n  - {name: default, priority: 1, action: alert}\n"
                + "  - {name: ' ', priority: 2, action: alert}\n");
        // then
        assertThat(result.problems()).extracting(Problem::code, Problem::line).containsExactly(
                tuple(ProblemCode.INVALID_NAME, 4), tuple(ProblemCode.INVALID_NAME, 5));
    }

    @Test
    void theFullExampleFromTheIssueIsValid() throws Exception {
        // when
        PolicyLoadResult result = new PolicyLoader().load("example.yaml",
                getClass().getResourceAsStream("/example-policy.yaml").readAllBytes());
        // then
        assertThat(result.problems()).isEmpty();
        assertThat(result.policy()).hasValueSatisfying(p -> assertThat(p.rules()).hasSize(3));
    }
}
