package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.ProblemCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A regex in a policy runs against values an attacker in a container chooses (image name, pod name, labels): matching
 * must take time linear in the value, whatever the pattern, and what the engine cannot run linearly is refused at load
 * with a located error.
 */
class HostileRegexTest {
    private static final String HOSTILE = ".*.*.*.*.*.*.*.*.*.*.*.*b";

    private static CompiledPolicy load(String yaml) {
        PolicyLoadResult result = new PolicyLoader().load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8));
        assertThat(result.errors()).isEmpty();
        return result.policy().orElseThrow();
    }

    private static String policyWithImageRegex(String regex) {
        return "apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules:\n"
                + "  - name: hostile\n    priority: 1\n    action: block\n"
                + "    resourceScope: [{field: imageName, operator: regex, values: ['" + regex + "']}]\n";
    }

    /**
     * The cost of one evaluation: the best of five timed runs after a warm-up, so that the JIT and the other processes
     * sharing this machine's two cores do not count as the matcher's time.
     */
    private static long bestEvaluationMillis(CompiledPolicy policy, DriftFacts facts) {
        for (int i = 0; i < 20; i++) {
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> policy.evaluate(facts));
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> policy.evaluate(facts));
            best = Math.min(best, System.nanoTime() - start);
        }
        return TimeUnit.NANOSECONDS.toMillis(best);
    }

    @Test
    void aPolynomialPatternOnATenThousandCharacterImageNameEvaluatesInUnderFiftyMilliseconds() {
        // given the pattern that took 22 s on a 25-character name with a backtracking matcher
        CompiledPolicy policy = load(policyWithImageRegex(HOSTILE));
        DriftFacts noMatch = Facts.exec().image("a".repeat(10_000)).build();

        // when it is evaluated against a 10,000-character image name with no 'b'
        long millis = bestEvaluationMillis(policy, noMatch);

        // then it answers in well under 50 ms, and still decides correctly
        assertThat(millis).isLessThan(50);
        assertThat(policy.evaluate(noMatch).decision()).isEqualTo(Verdict.Decision.IGNORE);
        assertThat(policy.evaluate(Facts.exec().image("a".repeat(9_999) + "b").build()).decision())
                .isEqualTo(Verdict.Decision.BLOCK);
    }

    @ParameterizedTest
    @ValueSource(strings = {"(a+)+", "(a|aa)*", "(\\\\w+\\\\s?)*", "(x+x+)+y", "(a*)*b"})
    void nestedRepetitionIsAcceptedBecauseMatchingIsLinear(String regex) {
        // given a pattern family that is exponential for a backtracking matcher
        CompiledPolicy policy = load(policyWithImageRegex(regex.replace("\\\\", "\\")));

        // when matched against a long value that fails at the last character
        long millis = bestEvaluationMillis(policy, Facts.exec().image("a".repeat(10_000) + "!").build());

        // then it is fast
        assertThat(millis).isLessThan(50);
    }

    @Test
    void aRegexWhoseProgramIsTooLargeIsRejectedBecauseMatchingCostGrowsWithIt() {
        // given a short pattern that expands to hundreds of matcher instructions
        String yaml = policyWithImageRegex("(.*a){60}");

        // when it is loaded
        PolicyLoadResult result = new PolicyLoader().load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8));

        // then it is refused, located
        assertThat(result.errors()).singleElement().satisfies(problem -> {
            assertThat(problem.code()).isEqualTo(ProblemCode.INVALID_REGEX);
            assertThat(problem.line()).isEqualTo(7);
            assertThat(problem.message()).contains("too large");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"(a)\\1", "(?<n>a)\\k<n>", "foo(?=bar)", "foo(?!bar)", "(?<=x)y", "(?<!x)y", "a*+", "(?>a+)b"})
    void backReferencesLookaroundAndPossessiveFormsAreRejectedWithALocatedError(String regex) {
        // given a policy whose regex uses a construct a linear-time engine cannot run
        String yaml = policyWithImageRegex(regex);

        // when it is loaded
        PolicyLoadResult result = new PolicyLoader().load("policy.yaml", yaml.getBytes(StandardCharsets.UTF_8));

        // then it is refused with INVALID_REGEX at the value's line and column
        assertThat(result.policy()).isEmpty();
        assertThat(result.errors()).singleElement().satisfies(problem -> {
            assertThat(problem.code()).isEqualTo(ProblemCode.INVALID_REGEX);
            assertThat(problem.file()).isEqualTo("policy.yaml");
            assertThat(problem.line()).isEqualTo(7);
            assertThat(problem.column()).isEqualTo(yaml.lines().toList().get(6).indexOf("'" + regex) + 1);
            assertThat(problem.message()).containsAnyOf("not supported", "back-reference", "lookaround", "possessive",
                    "atomic");
        });
    }

    @Test
    void ignoreCaseStillFoldsUnicode() {
        CompiledPolicy policy = load("apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules:\n"
                + "  - name: r\n    priority: 1\n    action: alert\n"
                + "    resourceScope: [{field: namespace, operator: regex, ignoreCase: true, values: ['ÄRGER-[a-z]+']}]\n");
        assertThat(policy.evaluate(Facts.exec().namespace("ärger-x").build()).decision()).isEqualTo(Verdict.Decision.ALERT);
    }
}
