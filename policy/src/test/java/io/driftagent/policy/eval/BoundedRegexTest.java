package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BoundedRegexTest {

    @ParameterizedTest
    @ValueSource(strings = {"(a+)+", "(a*)*b", "(a|aa)*", "(x(a+))+", "(\\w+\\s?)*", "(a)\\1", "(?<n>a)\\k<n>", "[a", "a{2,1}", ""})
    void catastrophicOrInvalidRegexesAreRejected(String regex) {
        assertThat(BoundedRegex.problem(regex)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"kube-(system|public)", "web-[0-9a-f]{4}", ".*/nginx:1\\.2[0-9]", "(ab)+", "[(+*)]+", "\\(a+\\)+",
            "(?:prod|stage)-[a-z]+"})
    void ordinaryRegexesAreAccepted(String regex) {
        assertThat(BoundedRegex.problem(regex)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(ints = {BoundedRegex.MAX_LENGTH + 1})
    void overlongRegexesAreRejected(int length) {
        assertThat(BoundedRegex.problem("a".repeat(length))).get().asString().contains("at most");
    }
}
