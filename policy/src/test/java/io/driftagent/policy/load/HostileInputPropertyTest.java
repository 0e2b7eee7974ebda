package io.driftagent.policy.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Mutated and hostile policy files: loading never throws, never hangs, and always upholds the result's contract
 * (a policy if and only if no error).
 */
class HostileInputPropertyTest {
    private static final Duration BUDGET = Duration.ofSeconds(10);
    private static final byte[] SEED = seed();

    private final PolicyLoader loader = new PolicyLoader();

    @Property(tries = 400)
    void mutatedPolicyNeverEscapesAsAnExceptionNorHangs(@ForAll("mutatedPolicies") byte[] content) {
        PolicyLoadResult result = assertTimeoutPreemptively(BUDGET, () -> loader.load("fuzz.yaml", content));
        assertThat(result.policy().isPresent()).isEqualTo(result.errors().isEmpty());
        assertThat(result.problems()).allSatisfy(p -> assertThat(p.toString()).startsWith("fuzz.yaml:"));
    }

    @Property(tries = 200)
    void randomUnicodeNeverEscapes(@ForAll("unicodeText") String text) {
        PolicyLoadResult result = assertTimeoutPreemptively(BUDGET,
                () -> loader.load("fuzz.yaml", text.getBytes(StandardCharsets.UTF_8)));
        assertThat(result.policy().isPresent()).isEqualTo(result.errors().isEmpty());
    }

    @Example
    void billionLaughsIsRefusedAtTheFirstAlias() {
        StringBuilder yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 10; i++) {
            yaml.append('a').append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 10; j++) {
                yaml.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            yaml.append("]\n");
        }
        PolicyLoadResult result = assertTimeoutPreemptively(BUDGET,
                () -> loader.load("laughs.yaml", yaml.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(result.problems()).extracting(Problem::code).containsExactly(ProblemCode.ALIAS_LIMIT);
    }

    @Example
    void aMegabyteOfNestingIsRefusedQuickly() {
        byte[] deep = new byte[LoadLimits.DEFAULT.maxBytes()];
        Arrays.fill(deep, 0, deep.length / 2, (byte) '[');
        Arrays.fill(deep, deep.length / 2, deep.length, (byte) ']');
        PolicyLoadResult result = assertTimeoutPreemptively(BUDGET, () -> loader.load("deep.yaml", deep));
        assertThat(result.problems()).extracting(Problem::code).containsExactly(ProblemCode.TOO_DEEP);
    }

    @Example
    void deepBlockNestingIsRefused() {
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            yaml.append(" ".repeat(i)).append("k").append(i).append(":\n");
        }
        PolicyLoadResult result = assertTimeoutPreemptively(BUDGET,
                () -> loader.load("deep.yaml", yaml.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(result.problems()).extracting(Problem::code).containsExactly(ProblemCode.TOO_DEEP);
    }

    @Example
    void aHugeFlatDocumentWithinTheSizeLimitLoadsOrFailsQuickly() {
        StringBuilder yaml = new StringBuilder("apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules:\n");
        int i = 0;
        while (yaml.length() < LoadLimits.DEFAULT.maxBytes() - 200) {
            yaml.append("  - {name: r").append(i).append(", priority: ").append(i).append(", action: alert, driftKinds: [MOUNT]}\n");
            i++;
        }
        // a generous budget: this is the largest legal input (about 14,000 rules) on a shared, loaded machine
        PolicyLoadResult result = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> loader.load("flat.yaml", yaml.toString().getBytes(StandardCharsets.UTF_8)));
        assertThat(result.problems()).isEmpty();
        assertThat(result.policy()).hasValueSatisfying(p -> assertThat(p.rules()).hasSizeGreaterThan(10_000));
    }

    @Example
    void controlCharactersAreASyntaxErrorNotACrash() {
        PolicyLoadResult result = loader.load("nul.yaml", "apiVersion: drift\u0000\n".getBytes(StandardCharsets.UTF_8));
        assertThat(result.problems()).extracting(Problem::code).containsExactly(ProblemCode.YAML_SYNTAX);
    }

    @Provide
    Arbitrary<byte[]> mutatedPolicies() {
        Arbitrary<Integer> position = Arbitraries.integers().between(0, SEED.length - 1);
        Arbitrary<byte[]> flips = Combinators.combine(position, Arbitraries.bytes())
                .as((at, value) -> withByte(at, value));
        Arbitrary<byte[]> manyFlips = Arbitraries.integers().between(0, SEED.length - 1).list().ofMaxSize(40)
                .map(positions -> {
                    byte[] copy = SEED.clone();
                    for (int at : positions) {
                        copy[at] = (byte) (copy[at] ^ (1 << (at % 8)));
                    }
                    return copy;
                });
        Arbitrary<byte[]> truncations = position.map(at -> Arrays.copyOf(SEED, at));
        Arbitrary<byte[]> duplications = Combinators.combine(position, position, Arbitraries.integers().between(1, 20))
                .as((from, to, times) -> duplicate(Math.min(from, to), Math.max(from, to), times));
        Arbitrary<byte[]> unicodeInsertions = Combinators.combine(position, unicodeText())
                .as((at, text) -> insert(at, text.getBytes(StandardCharsets.UTF_8)));
        Arbitrary<byte[]> deepNesting = Combinators.combine(position, Arbitraries.integers().between(1, 5000),
                        Arbitraries.of("[", "{", "- ", "a: ", "? "))
                .as((at, depth, opener) -> insert(at, opener.repeat(depth).getBytes(StandardCharsets.UTF_8)));
        Arbitrary<byte[]> aliases = Combinators.combine(position, Arbitraries.integers().between(1, 50))
                .as((at, count) -> insert(at, ("&a [x]\n" + " *a".repeat(count) + "\n").getBytes(StandardCharsets.UTF_8)));
        return Arbitraries.oneOf(flips, manyFlips, truncations, duplications, unicodeInsertions, deepNesting, aliases);
    }

    @Provide
    Arbitrary<String> unicodeText() {
        return Arbitraries.strings().all().ofMaxLength(200);
    }

    private static byte[] withByte(int at, byte value) {
        byte[] copy = SEED.clone();
        copy[at] = value;
        return copy;
    }

    private static byte[] duplicate(int from, int to, int times) {
        byte[] slice = Arrays.copyOfRange(SEED, from, to);
        byte[] repeated = new byte[slice.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(slice, 0, repeated, i * slice.length, slice.length);
        }
        return insert(to, repeated);
    }

    private static byte[] insert(int at, byte[] extra) {
        byte[] result = new byte[SEED.length + extra.length];
        System.arraycopy(SEED, 0, result, 0, at);
        System.arraycopy(extra, 0, result, at, extra.length);
        System.arraycopy(SEED, at, result, at + extra.length, SEED.length - at);
        return result;
    }

    private static byte[] seed() {
        try (InputStream in = HostileInputPropertyTest.class.getResourceAsStream("/example-policy.yaml")) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
