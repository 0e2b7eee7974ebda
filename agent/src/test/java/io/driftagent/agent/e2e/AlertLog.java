package io.driftagent.agent.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The agent's JSON-lines alert file, read as the user would read it: one JSON object per line. */
final class AlertLog {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path file;

    AlertLog(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** Every complete line, parsed (a line that is not one JSON object fails the test). */
    List<JsonNode> alerts() throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        String content = Files.readString(file, StandardCharsets.UTF_8);
        List<JsonNode> alerts = new ArrayList<>();
        int end = content.lastIndexOf('\n');
        if (end < 0) {
            return alerts;
        }
        for (String line : content.substring(0, end).split("\n")) {
            JsonNode alert = JSON.readTree(line);
            if (!alert.isObject()) {
                throw new IllegalStateException("not one JSON object per line: " + line);
            }
            alerts.add(alert);
        }
        return alerts;
    }

    /** Waits up to {@code timeout} for an alert matching {@code wanted}; empty if none came. */
    Optional<JsonNode> await(Predicate<JsonNode> wanted, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            Optional<JsonNode> found = alerts().stream().filter(wanted).findFirst();
            if (found.isPresent()) {
                return found;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    /** The file's content, for failure messages. */
    @Override
    public String toString() {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(no alerts file yet)";
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    static Predicate<JsonNode> forPath(String containerId, String path) {
        return alert -> containerId.equals(alert.path("container").path("id").asString())
                && path.equals(alert.path("drift").path("path").asString());
    }

    static JsonNode parse(String json) {
        return JSON.readTree(json);
    }

    /** The strings of a JSON array (a command line), in order. */
    static java.util.List<String> strings(JsonNode array) {
        java.util.List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asString()));
        return out;
    }
}
