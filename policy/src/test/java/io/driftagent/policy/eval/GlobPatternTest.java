package io.driftagent.policy.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GlobPatternTest {

    @ParameterizedTest(name = "''{0}'' on ''{1}'' -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            /opt/**          | /opt/a/b/c       | true
            /opt/**          | /opt/            | true
            /opt/**          | /opt             | false
            /opt/*           | /opt/a           | true
            /opt/*           | /opt/a/b         | false
            /opt/*/bin/*     | /opt/x/bin/tool  | true
            /opt/**/bin/*    | /opt/x/y/bin/t   | true
            /opt/**/bin/*    | /opt/bin/t       | false
            /opt/**bin/*     | /opt/bin/t       | true
            ?                | a                | true
            ?                | /                | false
            a\\*b            | a*b              | true
            a\\*b            | axb              | false
            **               | ''               | true
            *                | ''               | true
            """)
    void globsMatchAsDocumented(String glob, String value, boolean expected) {
        String actualValue = value.equals("''") ? "" : value;
        assertThat(GlobPattern.compile(glob.replace("\\\\", "\\"), false).matches(actualValue)).isEqualTo(expected);
    }

    @Test
    void invalidGlobsAreExplained() {
        assertThat(GlobPattern.problem("")).hasValue("a glob must not be empty");
        assertThat(GlobPattern.problem("abc\\")).hasValue("the glob ends with an unfinished escape '\\'");
        assertThat(GlobPattern.problem("/a/***")).get().asString().contains("'***'");
        assertThat(GlobPattern.problem("x".repeat(GlobPattern.MAX_LENGTH + 1))).isPresent();
    }

    @Test
    void adversarialValuesMatchInLinearTime() {
        // a pattern that makes a backtracking matcher explode on a long near-miss
        GlobPattern glob = GlobPattern.compile("/**/a/**/a/**/a/**/a/**/a/**/b", false);
        String value = "/a".repeat(2000) + "/c";
        boolean matched = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> glob.matches(value));
        assertThat(matched).isFalse();
    }
}
