package io.driftagent.policy.reload;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.PolicyYaml;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Facts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import io.driftagent.policy.model.Action;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyHolderTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(START);

    @Test
    void startsWithTheInitialPolicyStampedWithTheClock() {
        // given
        CompiledPolicy initial = CompiledPolicy.defaultOnly(Action.IGNORE);
        // when
        PolicyHolder holder = new PolicyHolder(initial, clock);
        // then
        assertThat(holder.current()).isSameAs(initial);
        assertThat(holder.loadedAt()).isEqualTo(START);
    }

    @Test
    void reloadingFromBytesLoadsExactlyThoseBytesWhateverTheFileHoldsNow() throws Exception {
        // given a file whose content changes after the caller read it
        PolicyHolder holder = new PolicyHolder(CompiledPolicy.defaultOnly(Action.IGNORE), clock);
        Path file = write("policy.yaml", blockEverything("read-by-the-caller"));
        byte[] read = Files.readAllBytes(file);
        Files.writeString(file, blockEverything("written-afterwards"));

        // when the holder reloads from the bytes read
        ReloadOutcome outcome = holder.reload(file.toString(), read);

        // then the version the caller read is in force, and problems name the file
        assertThat(outcome.applied()).isTrue();
        assertThat(holder.current().evaluate(Facts.exec().build()).ruleName()).isEqualTo("read-by-the-caller");
        ReloadOutcome bad = holder.reload(file.toString(), "rules: [".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(bad.applied()).isFalse();
        assertThat(bad.problems()).first().extracting(Problem::file).isEqualTo(file.toString());
    }

    @Test
    void aValidFileReplacesThePolicy() throws Exception {
        // given
        PolicyHolder holder = new PolicyHolder(CompiledPolicy.defaultOnly(Action.IGNORE), clock);
        Path file = write("good.yaml", blockEverything("block-all"));
        clock.advance(Duration.ofMinutes(5));
        // when
        ReloadOutcome outcome = holder.reload(file);
        // then
        assertThat(outcome.applied()).isTrue();
        assertThat(outcome.problems()).isEmpty();
        assertThat(outcome.active()).isSameAs(holder.current());
        assertThat(outcome.loadedAt()).isEqualTo(START.plus(Duration.ofMinutes(5))).isEqualTo(holder.loadedAt());
        assertThat(holder.current().evaluate(Facts.exec().build()).ruleName()).isEqualTo("block-all");
    }

    @Test
    void anInvalidFileKeepsTheLastGoodPolicyAndReportsWhy() throws Exception {
        // given a good policy in force
        PolicyHolder holder = new PolicyHolder(CompiledPolicy.defaultOnly(Action.IGNORE), clock);
        Path file = write("policy.yaml", blockEverything("good"));
        holder.reload(file);
        CompiledPolicy good = holder.current();
        Instant goodLoadedAt = holder.loadedAt();
        // when the file is replaced by a broken one and reloaded later
        Files.writeString(file, PolicyYaml.HEADER + "rules:\n  - {name: bad, priority: 1, action: explode}\n");
        clock.advance(Duration.ofMinutes(1));
        ReloadOutcome outcome = holder.reload(file);
        // then
        assertThat(outcome.applied()).isFalse();
        assertThat(outcome.active()).isSameAs(good).isSameAs(holder.current());
        assertThat(outcome.loadedAt()).isEqualTo(goodLoadedAt);
        assertThat(outcome.problems()).extracting(Problem::code).containsExactly(ProblemCode.UNKNOWN_ACTION);
    }

    @Test
    void aMissingFileKeepsThePolicy() {
        // given
        CompiledPolicy initial = CompiledPolicy.defaultOnly(Action.ALERT);
        PolicyHolder holder = new PolicyHolder(initial, clock);
        // when
        ReloadOutcome outcome = holder.reload(dir.resolve("absent.yaml"));
        // then
        assertThat(outcome.applied()).isFalse();
        assertThat(holder.current()).isSameAs(initial);
        assertThat(outcome.problems()).extracting(Problem::code).containsExactly(ProblemCode.UNREADABLE);
    }

    @Test
    void warningsAreReportedWithAnAppliedReload() throws Exception {
        // given
        PolicyHolder holder = new PolicyHolder(CompiledPolicy.defaultOnly(Action.IGNORE), clock);
        Path file = write("warn.yaml", PolicyYaml.HEADER + "rules:\n  - {name: a, priority: 1, action: alert}\n"
                + "  - {name: b, priority: 2, action: block}\n");
        // when
        ReloadOutcome outcome = holder.reload(file);
        // then
        assertThat(outcome.applied()).isTrue();
        assertThat(outcome.problems()).extracting(Problem::code).containsExactly(ProblemCode.SHADOWED_RULE);
    }

    @Test
    void concurrentReadersAlwaysSeeOneWholePolicy() throws Exception {
        // given two valid policies whose every rule agrees on one action, alternately reloaded
        Path alert = write("alert.yaml", uniform("alert", 50));
        Path block = write("block.yaml", uniform("block", 50));
        Path broken = write("broken.yaml", "rules: [");
        PolicyHolder holder = new PolicyHolder(CompiledPolicy.defaultOnly(Action.ALERT), clock);
        DriftFacts facts = Facts.exec().namespace("ns-49").build();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService readers = Executors.newFixedThreadPool(3);
        CountDownLatch started = new CountDownLatch(3);
        List<Future<List<String>>> results = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            results.add(readers.submit(() -> {
                started.countDown();
                List<String> inconsistencies = new ArrayList<>();
                long reads = 0;
                while (!stop.get() || reads < 1000) {
                    CompiledPolicy policy = holder.current();
                    Verdict verdict = policy.evaluate(facts);
                    String expected = policy.rules().isEmpty() ? "alert" : policy.rules().get(0).action().wireName();
                    if (!verdict.decision().wireName().equals(expected)) {
                        inconsistencies.add(verdict + " from " + policy);
                    }
                    reads++;
                }
                return inconsistencies;
            }));
        }
        started.await();
        // when
        int applied = 0;
        for (int i = 0; i < 60; i++) {
            Path next = i % 3 == 0 ? alert : i % 3 == 1 ? block : broken;
            if (holder.reload(next).applied()) {
                applied++;
            }
        }
        stop.set(true);
        readers.shutdown();
        assertThat(readers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        // then
        assertThat(applied).isEqualTo(40);
        for (Future<List<String>> result : results) {
            assertThat(result.get()).isEmpty();
        }
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    private static String blockEverything(String name) {
        return PolicyYaml.HEADER + "rules:\n  - {name: " + name + ", priority: 1, action: block}\n";
    }

    /** n rules on namespaces ns-0..ns-(n-1), all with the same action. */
    private static String uniform(String action, int n) {
        StringBuilder yaml = new StringBuilder(PolicyYaml.HEADER + "rules:\n");
        for (int i = 0; i < n; i++) {
            yaml.append("  - {name: r").append(i).append(", priority: ").append(i).append(", action: ").append(action)
                    .append(", resourceScope: [{field: namespace, operator: equals, values: [ns-").append(i).append("]}]}\n");
        }
        return yaml.toString();
    }
}
