package io.driftagent.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The demo is the whole agent on this kernel: real exec source, attribution, classification, policy, JSON sink. */
@Tag(TestTiers.KERNEL)
class DemoCommandTest {

    @BeforeAll
    static void requireRoot() {
        assumeTrue("root".equals(System.getProperty("user.name")), "the demo loads BPF / marks filesystems: needs root");
        assumeTrue(Files.isRegularFile(Path.of("/bin/busybox")), "busybox-static is not installed");
    }

    @ParameterizedTest(name = "source {0}")
    @ValueSource(strings = {"ebpf", "fanotify"})
    void theDroppedBinaryIsAlertedAsAddedAndTheImageBinaryIsNot(String source) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int exit = Main.run(new String[] {"demo", "--source", source},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(printed + err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(printed)
                .contains("\"alertType\":\"BinaryDrift\"")
                .contains("\"kind\":\"ADDED\",\"path\":\"/tmp/wget\"")
                .contains("\"container\":{\"id\":\"drift-sandbox-demo-")
                .contains("\"rule\":{\"name\":\"alert-on-demo-workloads\",\"priority\":10}")
                .containsPattern("exec /bin/(ls|busybox) +-> IMAGE")
                .doesNotContain("\"path\":\"/bin/ls\"");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"--source", "--source=ebpf", "extra"})
    void badArgumentsAreAUsageError(String arg) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(new String[] {"demo", arg}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("usage: demo");
    }
}
