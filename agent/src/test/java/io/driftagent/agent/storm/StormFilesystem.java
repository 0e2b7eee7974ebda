package io.driftagent.agent.storm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tmpfs mounted for the storm's binaries, so a blocking mode can put exactly this filesystem under permission
 * events (never the host root). Every mode execs from it, so all modes run the same storm.
 */
public final class StormFilesystem implements AutoCloseable {
    private final Path dir;

    private StormFilesystem(Path dir) {
        this.dir = dir;
    }

    /** Mounts a 64 MiB tmpfs on a new directory under {@code parent}. Needs root. */
    public static StormFilesystem mount(Path parent) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(parent, "drift-storm-fs-");
        try {
            run(List.of("mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "drift-storm", dir.toString()));
        } catch (IOException e) {
            Files.deleteIfExists(dir);
            throw e;
        }
        return new StormFilesystem(dir);
    }

    public Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("umount", dir.toString()));
        Files.deleteIfExists(dir);
    }

    private static void run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed: " + out);
        }
    }
}
