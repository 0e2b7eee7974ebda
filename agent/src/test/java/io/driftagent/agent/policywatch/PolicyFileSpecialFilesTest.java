package io.driftagent.agent.policywatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever is put where the policy file should be (a FIFO, a directory, a file that fails to read), the watcher never
 * blocks on it: it is refused with a clear reason, counted as a failed reload, and the watch goes on.
 */
class PolicyFileSpecialFilesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<String> loadedContents = new CopyOnWriteArrayList<>();
    private PolicyFileWatcher watcher;
    private Path fifo;

    private boolean reload(Path file, byte[] bytes) {
        loadedContents.add(new String(bytes, StandardCharsets.UTF_8));
        return true;
    }

    /** Releases a watcher wedged in open(2) or read(2) on a FIFO (writers open and close it), then closes it. */
    @AfterEach
    void close() throws InterruptedException {
        Thread closer = new Thread(() -> {
            if (watcher != null) {
                watcher.close();
            }
        });
        closer.setDaemon(true);
        closer.start();
        long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
        while (closer.isAlive() && System.nanoTime() < until) {
            if (fifo != null && Files.exists(fifo)) {
                Thread writer = new Thread(() -> {
                    try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                        out.flush();
                    } catch (IOException ignored) {
                        // nothing to release
                    }
                });
                writer.setDaemon(true);
                writer.start();
            }
            closer.join(100);
        }
    }

    @Test
    void aFifoInPlaceOfThePolicyIsRefusedCountedAndTheNextRegularFileLoads() throws Exception {
        // given a watcher that loaded a policy
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);
        assertThat(watcher.start()).isTrue();

        // when the policy file is replaced by a FIFO that nobody writes
        Files.delete(policy);
        mkfifo(policy);
        fifo = policy;

        // then the FIFO is refused with a clear reason and counted as a failed reload, without blocking the watch
        waitUntil(() -> reloads("failure") == 1);
        assertThat(watcher.lastFailure()).contains("FIFO").contains("not a regular file");
        assertThat(loadedContents).containsExactly("rules: v1");

        // and when a regular file takes its place again, it is loaded
        Files.delete(policy);
        Files.writeString(dir.resolve("next.yaml"), "rules: v2");
        Files.move(dir.resolve("next.yaml"), policy);
        waitUntil(() -> reloads("success") == 2);
        assertThat(loadedContents).containsExactly("rules: v1", "rules: v2");
        assertThat(watcher.lastFailure()).isNull();
        assertThat(reloads("failure")).isEqualTo(1);
    }

    @Test
    void aFifoBehindTheConfigMapSymlinksIsRefusedToo() throws Exception {
        // given a ConfigMap-style layout whose current version holds a FIFO instead of the file
        Files.createDirectory(dir.resolve("..v1"));
        Path target = dir.resolve("..v1").resolve("policy.yaml");
        mkfifo(target);
        fifo = target;
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
        Path policy = Files.createSymbolicLink(dir.resolve("policy.yaml"), Path.of("..data/policy.yaml"));
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);

        // when the watcher starts (the first load is synchronous)
        boolean loaded = runWithin(Duration.ofSeconds(5), watcher::start);

        // then it returns, refusing the FIFO, counted
        assertThat(loaded).isFalse();
        assertThat(watcher.lastFailure()).contains("FIFO");
        assertThat(reloads("failure")).isEqualTo(1);
    }

    @Test
    void aDirectoryInPlaceOfThePolicyIsCountedAsAFailure() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);
        watcher.start();

        Files.delete(policy);
        Files.createDirectory(policy);

        waitUntil(() -> reloads("failure") == 1);
        assertThat(watcher.lastFailure()).contains("directory");
    }

    @Test
    void aRegularFileThatFailsToReadIsCountedAsAFailure() throws Exception {
        // given a policy path that resolves to a regular file whose read(2) fails (EIO): /proc/self/mem at offset 0
        Path policy = Files.createSymbolicLink(dir.resolve("policy.yaml"), Path.of("/proc/self/mem"));
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);

        // when the watcher starts
        boolean loaded = runWithin(Duration.ofSeconds(5), watcher::start);

        // then the read error is a counted failure with its reason
        assertThat(loaded).isFalse();
        assertThat(reloads("failure")).isEqualTo(1);
        assertThat(watcher.lastFailure()).containsIgnoringCase("cannot read");
    }

    private interface Call<T> {
        T call() throws Exception;
    }

    private static <T> T runWithin(Duration limit, Call<T> call) throws Exception {
        return org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(limit, call::call);
    }

    private static void mkfifo(Path path) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertThat(process.waitFor()).isZero();
    }

    private double reloads(String outcome) {
        return registry.get(PolicyFileWatcher.RELOADS).tag("result", outcome).counter().count();
    }

    private static void waitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + WAIT);
            }
            Thread.sleep(10);
        }
    }
}
