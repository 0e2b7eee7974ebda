package io.driftagent.agent.policywatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileWatcherTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final MeterRegistry registry = new SimpleMeterRegistry();
    /** The content of the policy file at each reload: what the policy engine would have parsed. */
    private final List<String> loadedContents = new CopyOnWriteArrayList<>();
    private PolicyFileWatcher watcher;

    /** Accepts any content but "bad". */
    private boolean reload(Path file, byte[] bytes) {
        String content = new String(bytes, StandardCharsets.UTF_8);
        loadedContents.add(content);
        return !content.equals("bad");
    }

    /** Writes next to the file and renames over it, as a ConfigMap update or a careful editor does. */
    private static void replaceAtomically(Path file, String content) throws IOException {
        Path next = Files.writeString(file.resolveSibling(file.getFileName() + ".next"), content);
        Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @AfterEach
    void close() {
        if (watcher != null) {
            watcher.close();
        }
    }

    @Test
    void aConfigMapSymlinkSwapIsReloaded() throws Exception {
        Path policy = configMap("..2026_11_27_10_00_00.111111111", "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMinutes(5), Duration.ofMillis(50), registry);
        assertThat(watcher.start()).isTrue();

        swapConfigMap("..2026_11_27_10_00_00.111111111", "..2026_11_27_10_05_00.222222222", "rules: v2");

        waitUntil(() -> loadedContents.size() == 2);
        assertThat(loadedContents).containsExactly("rules: v1", "rules: v2");
        assertThat(reloads("success")).isEqualTo(2);
        assertThat(watcher.policyLoaded()).isTrue();
    }

    @Test
    void pollingAloneCatchesAConfigMapSwapWhenNoWatchEventArrives() throws Exception {
        Path policy = configMap("..2026_11_27_10_00_00.111111111", "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(100), Duration.ZERO, registry, false);
        watcher.start();

        swapConfigMap("..2026_11_27_10_00_00.111111111", "..2026_11_27_10_05_00.222222222", "rules: v2");

        waitUntil(() -> loadedContents.size() == 2);
        assertThat(loadedContents).containsExactly("rules: v1", "rules: v2");
    }

    @Test
    void aPlainFileRewriteIsReloaded() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMinutes(5), Duration.ofMillis(50), registry);
        watcher.start();

        Files.writeString(policy, "rules: v2");

        waitUntil(() -> loadedContents.size() == 2);
        assertThat(loadedContents).containsExactly("rules: v1", "rules: v2");
    }

    @Test
    void aBurstOfWritesIsDebouncedIntoOneReloadOfTheLastContent() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMinutes(5), Duration.ofMillis(800), registry);
        watcher.start();

        for (int i = 2; i <= 6; i++) {
            Files.writeString(policy, "rules: v" + i);
            Thread.sleep(10);
        }

        waitUntil(() -> loadedContents.size() >= 2);
        Thread.sleep(1000);
        assertThat(loadedContents).containsExactly("rules: v1", "rules: v6");
    }

    @Test
    void touchingTheFileWithoutChangingItDoesNotReload() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);
        watcher.start();

        Files.setLastModifiedTime(policy, FileTime.from(Instant.now().plusSeconds(60)));
        Thread.sleep(600);

        assertThat(loadedContents).containsExactly("rules: v1");
    }

    @Test
    void aRejectedPolicyIsCountedOnceAndTheNextGoodOneLoads() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);
        watcher.start();

        replaceAtomically(policy, "bad"); // in-place writes can be read half-done (truncated)
        waitUntil(() -> reloads("failure") == 1);
        assertThat(watcher.lastFailure()).isEqualTo("rejected by the policy loader");
        assertThat(watcher.policyLoaded()).isTrue();
        Thread.sleep(300);
        assertThat(reloads("failure")).as("the same bad content is not retried on every poll").isEqualTo(1);

        replaceAtomically(policy, "rules: v3");
        waitUntil(() -> reloads("success") == 2);
        assertThat(watcher.lastFailure()).isNull();
        assertThat(loadedContents).containsExactly("rules: v1", "bad", "rules: v3");
    }

    @Test
    void aReloaderExceptionIsAFailureWithItsMessage() throws Exception {
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: v1");
        watcher = new PolicyFileWatcher(policy, (file, bytes) -> {
            throw new IllegalArgumentException("policy.yaml:3:5 unknown action 'alrt'");
        }, Duration.ofMillis(50), Duration.ofMillis(20), registry);

        assertThat(watcher.start()).isFalse();

        assertThat(watcher.policyLoaded()).isFalse();
        assertThat(watcher.lastFailure()).isEqualTo("policy.yaml:3:5 unknown action 'alrt'");
        assertThat(reloads("failure")).isEqualTo(1);
    }

    @Test
    void aFileThatAppearsLaterIsLoadedThen() throws Exception {
        Path policy = dir.resolve("policy.yaml");
        watcher = new PolicyFileWatcher(policy, this::reload, Duration.ofMillis(50), Duration.ofMillis(20), registry);
        assertThat(watcher.start()).isFalse();

        Files.writeString(policy, "rules: late");

        waitUntil(() -> watcher.policyLoaded());
        assertThat(loadedContents).containsExactly("rules: late");
    }

    /** The layout the kubelet writes for a ConfigMap volume: a timestamped dir, ..data -> it, file -> ..data/file. */
    private Path configMap(String versionDir, String content) throws IOException {
        Files.createDirectory(dir.resolve(versionDir));
        Files.writeString(dir.resolve(versionDir).resolve("policy.yaml"), content);
        Files.createSymbolicLink(dir.resolve("..data"), Path.of(versionDir));
        return Files.createSymbolicLink(dir.resolve("policy.yaml"), Path.of("..data/policy.yaml"));
    }

    /** The kubelet's atomic update: new dir, ..data_tmp -> it, rename(2) over ..data, old dir removed. */
    private void swapConfigMap(String oldDir, String newDir, String content) throws IOException {
        Files.createDirectory(dir.resolve(newDir));
        Files.writeString(dir.resolve(newDir).resolve("policy.yaml"), content);
        Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of(newDir));
        Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
        Files.delete(dir.resolve(oldDir).resolve("policy.yaml"));
        Files.delete(dir.resolve(oldDir));
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
