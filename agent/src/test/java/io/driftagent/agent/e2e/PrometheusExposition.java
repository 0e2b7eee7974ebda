package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The agent's {@code /metrics} text: checked by {@code promtool}, read sample by sample. */
final class PrometheusExposition {

    private PrometheusExposition() {
    }

    /** promtool's complaints (syntax and lint) about the exposition; empty when it is valid. */
    static List<String> promtoolProblems(String exposition, Path work) throws IOException, InterruptedException {
        assumeTrue(HostCommands.works("promtool", "--version"), "promtool is not installed (scripts/host-setup.sh)");
        Path file = Files.writeString(work.resolve("metrics-" + System.nanoTime() + ".txt"), exposition);
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(30, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        return promtool.exitValue() == 0 ? List.of() : List.of(output.split("\n"));
    }

    /**
     * The value of the sample {@code name{labels...}}: {@code labels} is the start of its label set as Prometheus
     * writes it (sorted, quoted), "" for a sample without labels. Fails when there is no such sample.
     */
    static long sample(String exposition, String name, String labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(name)
                + (labels.isEmpty() ? "" : "\\{" + Pattern.quote(labels) + "[,}]") + "[^ ]*\\s+([0-9.eE+-]+)$",
                Pattern.MULTILINE);
        Matcher matcher = line.matcher(exposition);
        if (!matcher.find()) {
            throw new AssertionError("no sample " + name + "{" + labels + "} in the exposition:\n" + exposition);
        }
        return (long) Double.parseDouble(matcher.group(1));
    }
}
