package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BoundedRegexTest {

    @ParameterizedTest
    @ValueSource(strings = {"(a)\\1", "(?<n>a)\\k<n>", "a(?=b)", "a++", "[a", "a{2,1}", ""})
    void invalidOrBacktrackingOnlyRegexesAreRejected(String regex) {
        assertThat(BoundedRegex.problem(regex)).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"kube-(system|public)", "web-[0-9a-f]{4}", ".*/nginx:1\\.2[0-9]", "(ab)+", "[(+*)]+", "\\(a+\\)+",
            "(?:prod|stage)-[a-z]+", "(a+)+", "(a*)*b", "(a|aa)*", "(x(a+))+", "(\\w+\\s?)*"})
    void ordinaryRegexesAreAccepted(String regex) {
        assertThat(BoundedRegex.problem(regex)).isEmpty();
    }

    @ParameterizedTest(name = "{0} starts with ''{1}''")
    @CsvSource(delimiter = ';', textBlock = """
            sidecar-[a-z]+ ; sidecar-
            ab+c           ; ab
            ab?c           ; a
            ab*c           ; a
            ab{0,2}        ; a
            a|b            ; ''
            (?i)abc        ; ''
            \\Qa.b\\E  ; ''
            .*x            ; ''
            """)
    void theLiteralPrefixIsOnlyWhatEveryMatchStartsWith(String regex, String prefix) {
        assertThat(BoundedRegex.literalPrefix(regex)).isEqualTo(prefix);
    }

    @org.junit.jupiter.api.Test
    void thePrefixCheckDoesNotChangeWhatMatches() {
        assertThat(BoundedRegex.compile("ab?c", false).matches("ac")).isTrue();
        assertThat(BoundedRegex.compile("ab+c", false).matches("abbc")).isTrue();
        assertThat(BoundedRegex.compile("SIDE-[a-z]+", true).matches("side-x")).isTrue();
        assertThat(BoundedRegex.compile("side-[a-z]+", false).matches("SIDE-x")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {BoundedRegex.MAX_LENGTH + 1})
    void overlongRegexesAreRejected(int length) {
        assertThat(BoundedRegex.problem("a".repeat(length))).get().asString().contains("at most");
    }
}
