package io.driftagent.systest.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent image under test: {@code DRIFT_IMAGE} (environment) or {@code -Ddrift.image} when a pre-built image is
 * passed; otherwise built with the repository's {@code scripts/build-image.sh}, whose last stdout line is the image
 * reference ({@code SystemTestExtension} builds it once per test run).
 */
public final class AgentImage {

    private static final Logger LOG = LoggerFactory.getLogger(AgentImage.class);
    private static final String TAG = "drift-agent:systest";

    private AgentImage() {
    }

    public static String reference(Path repositoryRoot) throws IOException, InterruptedException {
        String given = System.getProperty("drift.image", System.getenv("DRIFT_IMAGE"));
        if (given != null && !given.isBlank()) {
            requireLocal(given);
            return given;
        }
        return build(repositoryRoot);
    }

    private static String build(Path repositoryRoot) throws IOException, InterruptedException {
        Path script = repositoryRoot.resolve("scripts/build-image.sh");
        if (!Files.isExecutable(script)) {
            throw new AssertionError("no image to test: set DRIFT_IMAGE to a pre-built agent image, or provide "
                    + script + " (it builds the image and prints its reference as the last line)");
        }
        long start = System.nanoTime();
        ProcessBuilder builder = new ProcessBuilder(script.toString(), TAG).directory(repositoryRoot.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        if (Files.isRegularFile(repositoryRoot.resolve("agent/target/drift-agent.jar"))) {
            // the reactor packaged the agent before this module: no Maven run inside this one
            builder.environment().put("DRIFT_IMAGE_SKIP_MAVEN", "1");
        }
        Process process = builder.start();
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(15, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new AssertionError(script + " failed (exit " + process.exitValue() + "):\n" + out);
        }
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new AssertionError(script + " printed no image reference");
        }
        String reference = lines.get(lines.size() - 1).trim();
        requireLocal(reference);
        LOG.info("built {} with {} in {} s", reference, script,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
        return reference;
    }

    private static void requireLocal(String reference) throws IOException, InterruptedException {
        Process inspect = new ProcessBuilder("docker", "image", "inspect", "--format", "{{.Id}}", reference)
                .redirectErrorStream(true).start();
        String out = new String(inspect.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (inspect.waitFor() != 0) {
            throw new AssertionError("the agent image " + reference + " is not in the local Docker: " + out);
        }
    }
}
