package io.driftagent.reporter.json;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.SampleAlerts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * A full disk must not leave half an alert line that the next alert is glued to: on a real 64 KiB tmpfs, filled up,
 * every line of the alerts file is a whole JSON object once space is freed and alerting goes on. Needs root (mount).
 */
@Tag("kernel")
class JsonLinesSinkDiskFullTest {

    @TempDir
    Path dir;

    private Path mountPoint;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        assertThat(System.getProperty("user.name")).as("this test mounts a tmpfs and must run as root").isEqualTo("root");
        mountPoint = Files.createDirectory(dir.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.toString());
    }

    @AfterEach
    void unmount() throws Exception {
        run("umount", mountPoint.toString());
    }

    @Test
    void whenTheDiskFillsUpNoPartialLineIsLeftAndTheNextAlertAfterSpaceFreesStartsOnItsOwnLine() throws Exception {
        // given an alerts file on a 64 KiB tmpfs that a filler file has nearly filled
        Path alerts = mountPoint.resolve("alerts.jsonl");
        JsonLinesSink sink = JsonLinesSink.appendingTo(alerts);
        Path filler = mountPoint.resolve("filler");
        Files.write(filler, new byte[52 * 1024]);

        // when alerts (about 1.3 KB each) are written until the disk is full
        int written = 0;
        IOException failure = null;
        for (int i = 0; i < 100 && failure == null; i++) {
            try {
                sink.publish(SampleAlerts.of("c1", "/tmp/" + i + "-" + "x".repeat(1_200), "ADDED"));
                written++;
            } catch (IOException e) {
                failure = e;
            }
        }
        assertThat(failure).as("the disk filled up").isNotNull();
        // and space is freed, and alerting goes on
        Files.delete(filler);
        sink.publish(SampleAlerts.of("c1", "/tmp/after-space-freed", "ADDED"));
        sink.close();

        // then every line is a whole JSON object: the written ones and the one after, none lost in a glued line
        List<String> lines = Files.readAllLines(alerts, StandardCharsets.UTF_8);
        JsonMapper mapper = JsonMapper.builder().build();
        assertThat(lines).hasSize(written + 1);
        for (String line : lines) {
            assertThat(mapper.readTree(line).get("drift").get("path").asString()).startsWith("/tmp/");
        }
        assertThat(mapper.readTree(lines.get(lines.size() - 1)).get("drift").get("path").asString())
                .isEqualTo("/tmp/after-space-freed");
        System.out.printf("disk full after %d alerts (%s); file %d bytes%n", written, failure.getMessage(),
                Files.size(alerts));
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
