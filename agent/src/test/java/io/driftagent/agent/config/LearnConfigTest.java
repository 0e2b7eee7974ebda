package io.driftagent.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnConfigTest {
    private static final Map<String, String> NODE = Map.of("NODE_NAME", "node-1");

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(() -> "host");

    @Test
    void learnModeIsOffByDefault() throws Exception {
        assertThat(loader.load(Optional.empty(), NODE, Map.of()).learn()).isEqualTo(AgentConfig.Learn.OFF);
        assertThat(AgentConfig.Learn.OFF.enabled()).isFalse();
    }

    @Test
    void learnModeIsReadFromTheFileWithListsAndFromTheEnvironmentWithCommaSeparatedNames() throws Exception {
        Path file = Files.writeString(dir.resolve("agent.yaml"), """
                learn:
                  namespaces: [shop, payments]
                  duration: 2h
                  alertsFile: /var/lib/drift-agent/learn.jsonl
                  suggestionFile: /var/lib/drift-agent/suggested.yaml
                """);
        AgentConfig.Learn learn = loader.load(Optional.of(file), NODE, Map.of()).learn();
        assertThat(learn).isEqualTo(new AgentConfig.Learn(Set.of("shop", "payments"), Set.of(), Duration.ofHours(2),
                Path.of("/var/lib/drift-agent/learn.jsonl"), Path.of("/var/lib/drift-agent/suggested.yaml")));

        Map<String, String> env = Map.of("NODE_NAME", "node-1", "DRIFT_LEARN_WORKLOADS", "web, api",
                "DRIFT_LEARN_ALERTS_FILE", "/l.jsonl", "DRIFT_LEARN_SUGGESTION_FILE", "/s.yaml");
        AgentConfig.Learn fromEnv = loader.load(Optional.empty(), env, Map.of()).learn();
        assertThat(fromEnv.enabled()).isTrue();
        assertThat(fromEnv.workloads()).containsExactlyInAnyOrder("web", "api");
        assertThat(fromEnv.duration()).isEqualTo(Duration.ofHours(24));
        assertThat(Setting.LEARN_SUGGESTION_FILE.envName()).isEqualTo("DRIFT_LEARN_SUGGESTION_FILE");
    }

    @Test
    void learnModeNeedsItsFilesAndItsFilesNeedLearnMode() {
        ConfigException missing = catchThrowableOfType(ConfigException.class, () -> loader.load(Optional.empty(),
                Map.of("NODE_NAME", "n", "DRIFT_LEARN_NAMESPACES", "shop", "DRIFT_LEARN_DURATION", "0s"), Map.of()));
        assertThat(missing.problems()).containsExactlyInAnyOrder(
                "learn.duration: '0s' must be greater than zero (environment DRIFT_LEARN_DURATION)",
                "learn.alertsFile: required in learn mode (learn.namespaces or learn.workloads is set): set DRIFT_LEARN_ALERTS_FILE",
                "learn.suggestionFile: required in learn mode (learn.namespaces or learn.workloads is set): set DRIFT_LEARN_SUGGESTION_FILE");

        ConfigException orphan = catchThrowableOfType(ConfigException.class, () -> loader.load(Optional.empty(),
                Map.of("NODE_NAME", "n", "DRIFT_LEARN_ALERTS_FILE", "/l.jsonl", "DRIFT_LEARN_NAMESPACES", " , "), Map.of()));
        assertThat(orphan.problems()).containsExactly(
                "learn.namespaces: ' , ' must be names separated by commas, none empty (environment DRIFT_LEARN_NAMESPACES)",
                "learn.alertsFile: '/l.jsonl' set without learn.namespaces or learn.workloads (environment DRIFT_LEARN_ALERTS_FILE)");
    }
}
