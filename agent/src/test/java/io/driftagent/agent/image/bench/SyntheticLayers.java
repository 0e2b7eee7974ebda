package io.driftagent.agent.image.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A synthetic image as overlay lower directories: a base layer of {@code dirs x filesPerDir} small files under
 * /usr/share plus a usrmerge /bin -> usr/bin with 500 binaries, and a top layer that replaces 1 in 10 directories'
 * first file, adds 5,000 files and whites out 20 paths (char devices 0/0, via mknod).
 */
final class SyntheticLayers {

    final Path root;
    final List<Path> topFirst;
    final int files;

    private final boolean owned;

    private SyntheticLayers(Path root, List<Path> topFirst, int files, boolean owned) {
        this.owned = owned;
        this.root = root;
        this.topFirst = topFirst;
        this.files = files;
    }

    /**
     * Creates the layers in a new temp directory, or reuses the ones under the directory named by the system
     * property {@code drift.synthetic.dir} (created there on first use, then kept: building 100,000 files is slow
     * on a loaded machine).
     */
    static SyntheticLayers create(int dirs, int filesPerDir) throws IOException, InterruptedException {
        String reuse = System.getProperty("drift.synthetic.dir");
        if (reuse != null && Files.isRegularFile(Path.of(reuse, "complete"))) {
            Path root = Path.of(reuse);
            int files = Integer.parseInt(Files.readString(root.resolve("complete")).trim());
            return new SyntheticLayers(root, List.of(root.resolve("top"), root.resolve("base")), files, false);
        }
        Path root = reuse != null ? Files.createDirectories(Path.of(reuse))
                : Files.createTempDirectory("drift-synthetic-image");
        Path base = Files.createDirectories(root.resolve("base"));
        Path top = Files.createDirectories(root.resolve("top"));
        byte[] content = "#!/bin/sh\necho synthetic\n".getBytes();
        Files.createDirectories(base.resolve("usr/bin"));
        Files.createSymbolicLink(base.resolve("bin"), Path.of("usr/bin"));
        int files = 0;
        for (int b = 0; b < 500; b++) {
            Files.write(base.resolve("usr/bin/tool-" + b), content);
            files++;
        }
        for (int d = 0; d < dirs; d++) {
            Path dir = Files.createDirectories(base.resolve("usr/share/pkg-" + d));
            for (int f = 0; f < filesPerDir; f++) {
                Files.write(dir.resolve("file-" + f + ".dat"), content);
                files++;
            }
        }
        for (int d = 0; d < dirs; d += 10) {
            Path dir = Files.createDirectories(top.resolve("usr/share/pkg-" + d));
            Files.write(dir.resolve("file-0.dat"), "replaced\n".getBytes());
            files++;
        }
        Path added = Files.createDirectories(top.resolve("opt/app"));
        for (int f = 0; f < 5000; f++) {
            Files.write(added.resolve("added-" + f), content);
            files++;
        }
        for (int w = 0; w < 20; w++) {
            Path whiteout = top.resolve("usr/share/pkg-" + (w * 10 + 1));
            Process p = new ProcessBuilder("mknod", whiteout.toString(), "c", "0", "0").inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException("mknod failed (needs root)");
            }
            files++;
        }
        if (reuse != null) {
            Files.writeString(root.resolve("complete"), Integer.toString(files));
        }
        return new SyntheticLayers(root, List.of(top, base), files, reuse == null);
    }

    void delete() throws IOException, InterruptedException {
        if (!owned) {
            return;
        }
        new ProcessBuilder("rm", "-rf", root.toString()).inheritIO().start().waitFor();
    }
}
