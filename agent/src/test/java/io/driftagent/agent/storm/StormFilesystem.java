package io.driftagent.agent.storm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The storm's own filesystem, shaped like a container's: a tmpfs holding an image layer (the storm binaries, compiled
 * into it), an empty upper layer and the overlay of both, from which every mode execs (so all modes run the same
 * storm, and a blocking mode puts exactly this overlay under permission events, never the host root). The storm
 * binary is therefore an image file, as a container's own binaries are.
 */
public final class StormFilesystem implements AutoCloseable {
    private final Path dir;
    private final Path root;
    private final StormDriver driver;

    private StormFilesystem(Path dir, Path root, StormDriver driver) {
        this.dir = dir;
        this.root = root;
        this.driver = driver;
    }

    /** Mounts a 64 MiB tmpfs on a new directory under {@code parent}, builds the image layer, mounts the overlay. Needs root. */
    public static StormFilesystem mount(Path parent) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(parent, "drift-storm-fs-");
        try {
            run(List.of("mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "drift-storm", dir.toString()));
        } catch (IOException e) {
            Files.deleteIfExists(dir);
            throw e;
        }
        try {
            Path lower = Files.createDirectory(dir.resolve("lower"));
            Path root = Files.createDirectory(dir.resolve("root"));
            Files.createDirectory(dir.resolve("upper"));
            Files.createDirectory(dir.resolve("work"));
            StormDriver built = StormDriver.compile(lower);
            run(List.of("mount", "-t", "overlay", "drift-storm-root", "-o", "lowerdir=" + lower + ",upperdir="
                    + dir.resolve("upper") + ",workdir=" + dir.resolve("work"), root.toString()));
            return new StormFilesystem(dir, root, built.seenFrom(root));
        } catch (IOException | InterruptedException | RuntimeException e) {
            run(List.of("umount", dir.toString()));
            Files.deleteIfExists(dir);
            throw e;
        }
    }

    /** The overlay root the storm execs from. */
    public Path dir() {
        return root;
    }

    /** The storm driver and binary, as seen through the overlay. */
    public StormDriver driver() {
        return driver;
    }

    /**
     * The storm of a binary dropped into the running "container": the storm binary copied into the overlay, so it
     * lives in the upper (writable) layer, as ADDED drift does. Its execs are ones the eBPF reader cannot let wait.
     */
    public StormDriver droppedDriver() throws IOException {
        Path dropped = root.resolve("drift-storm-dropped");
        if (!Files.exists(dropped)) {
            Files.copy(Path.of(driver.execPath()), dropped, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        return driver.execing(dropped);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("umount", root.toString()));
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
