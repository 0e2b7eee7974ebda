package io.driftagent.agent.metadata;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a host tool (ctr, docker, tar) for test set-up, with a time limit. */
public final class HostCommand {
    public record Result(int exitCode, String stdout, String stderr) {
        public Result orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException("exit " + exitCode + ": " + stderr.strip());
            }
            return this;
        }
    }

    private HostCommand() {
    }

    public static Result run(List<String> command) throws IOException, InterruptedException {
        return run(command, null);
    }

    public static Result run(List<String> command, Path stdin) throws IOException, InterruptedException {
        Path out = Files.createTempFile("drift-k8s-cmd", ".out");
        Path err = Files.createTempFile("drift-k8s-cmd", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (stdin != null) {
                builder.redirectInput(stdin.toFile());
            }
            Process process = builder.start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    public static boolean works(String... command) {
        try {
            return run(List.of(command)).exitCode() == 0;
        } catch (IOException | InterruptedException | IllegalStateException unavailable) {
            return false;
        }
    }

    /** A rootfs holding only a static busybox, enough to run {@code /bin/busybox sleep}. */
    public static Path busyboxRootfs(Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        return dir;
    }
}
