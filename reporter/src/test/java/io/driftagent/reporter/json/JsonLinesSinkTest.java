package io.driftagent.reporter.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.SampleAlerts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

class JsonLinesSinkTest {

    @TempDir
    Path dir;

    @Test
    void newFileIsCreatedPrivateAndEachAlertIsOnDiskAsOneLineBeforeClose() throws Exception {
        // given
        Path file = dir.resolve("alerts.jsonl");
        JsonLinesSink sink = JsonLinesSink.appendingTo(file);

        // when
        sink.publish(SampleAlerts.of("c1", "/tmp/one", "ADDED"));
        sink.publish(SampleAlerts.of("c1", "/tmp/two\nthree", "ADDED"), 3);

        // then: readable before close (flushed per alert), one object per line, mode 0600
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2);
        JsonMapper mapper = JsonMapper.builder().build();
        assertThat(mapper.readTree(lines.get(0)).get("drift").get("path").asString()).isEqualTo("/tmp/one");
        assertThat(mapper.readTree(lines.get(1)).get("count").asInt()).isEqualTo(3);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        sink.close();
    }

    @Test
    void existingFileIsAppendedTo() throws Exception {
        // given
        Path file = dir.resolve("alerts.jsonl");
        Files.writeString(file, "{\"earlier\":true}\n");

        // when
        try (JsonLinesSink sink = JsonLinesSink.appendingTo(file)) {
            sink.publish(SampleAlerts.full());
        }

        // then
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("{\"earlier\":true}");
        assertThat(lines.get(1)).startsWith("{\"schemaVersion\":1,");
    }

    @Test
    void onAStreamThatFailedPartWayTheNextAlertStartsOnAFreshLine() throws Exception {
        // given a stream that accepts 40 bytes of the first alert, then fails once
        java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
        java.io.OutputStream flaky = new java.io.OutputStream() {
            private boolean failed;

            @Override
            public void write(int b) {
                received.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                if (!failed) {
                    failed = true;
                    received.write(b, off, 40);
                    throw new java.io.IOException("No space left on device");
                }
                received.write(b, off, len);
            }
        };
        JsonLinesSink sink = new JsonLinesSink("flaky", flaky, false);

        // when the first publish fails and the second succeeds
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.publish(SampleAlerts.of("c1", "/tmp/one", "ADDED")))
                .isInstanceOf(java.io.IOException.class);
        sink.publish(SampleAlerts.of("c1", "/tmp/two", "ADDED"));

        // then the fragment is alone on its line and the second alert is whole on the next
        List<String> lines = received.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).hasSize(40);
        assertThat(JsonMapper.builder().build().readTree(lines.get(1)).get("drift").get("path").asString()).isEqualTo("/tmp/two");
    }
}
