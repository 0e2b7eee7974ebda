package io.driftagent.agent.source.fanotify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small "container" for kernel tests: an overlay (image layer with busybox-static and a tiny static binary,
 * an upper and a work dir) mounted in the host namespace like containerd does, and commands run inside it in a
 * private mount namespace after pivot_root, so the kernel sees container-relative paths. Volumes are bind
 * mounts made inside that namespace only. Must be closed (unmounts, deletes).
 */
final class OverlayContainer implements AutoCloseable {

    final Path dir;
    final Path lower;
    final Path upper;
    final Path merged;
    private final List<Path> hostMounts = new ArrayList<>();
    private final List<String[]> volumes = new ArrayList<>();

    private OverlayContainer(Path dir) {
        this.dir = dir;
        this.lower = dir.resolve("lower");
        this.upper = dir.resolve("upper");
        this.merged = dir.resolve("merged");
    }

    /** @param imageFiles extra files of the image layer: container path -> host file to copy */
    static OverlayContainer create(Path hello, String... imageBinaries) throws IOException, InterruptedException {
        OverlayContainer c = new OverlayContainer(Files.createTempDirectory("drift-fanotify-ctr"));
        Files.createDirectories(c.lower.resolve("bin"));
        Files.createDirectories(c.lower.resolve(".old"));
        Files.createDirectories(c.lower.resolve("vol"));
        Files.createDirectories(c.lower.resolve("tmpvol"));
        Files.createDirectories(c.upper);
        Files.createDirectories(c.dir.resolve("work"));
        Files.createDirectories(c.merged);
        Files.copy(Path.of("/bin/busybox"), c.lower.resolve("bin/busybox"));
        for (String applet : List.of("sh", "true", "cat", "echo", "chmod", "cp")) {
            Files.createSymbolicLink(c.lower.resolve("bin/" + applet), Path.of("busybox"));
        }
        for (String name : imageBinaries) {
            Files.copy(hello, c.lower.resolve("bin/" + name));
        }
        c.mountOnHost("-t", "overlay", "overlay", "-o", "lowerdir=" + c.lower + ",upperdir=" + c.upper + ",workdir="
                + c.dir.resolve("work"), c.merged.toString());
        return c;
    }

    /** A tmpfs mounted on the host under this container's dir (a tmpfs volume source). */
    Path hostTmpfs(String name) throws IOException, InterruptedException {
        Path p = dir.resolve(name);
        Files.createDirectories(p);
        mountOnHost("-t", "tmpfs", "-o", "size=16m", "tmpfs", p.toString());
        return p;
    }

    /** Bind-mounts {@code hostDir} at {@code containerPath} inside every later {@link #run} (like a volume). */
    void volume(Path hostDir, String containerPath) {
        volumes.add(new String[] {hostDir.toString(), containerPath});
    }

    long overlayDev() throws IOException {
        return dev(merged);
    }

    static long dev(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:dev")).longValue();
    }

    static long ino(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
    }

    /** Result of one command inside the container: the pid that ran {@code exec}, exit status, output. */
    record Run(int pid, int exitCode, String output) {}

    /**
     * Runs {@code shellCommand} with busybox sh inside the container; the first output line is the shell's pid,
     * so {@code exec X} at the end of the command gives X that pid.
     */
    Run run(String shellCommand) throws IOException, InterruptedException {
        StringBuilder binds = new StringBuilder();
        for (String[] v : volumes) {
            binds.append("mount --bind '").append(v[0]).append("' '").append(merged).append(v[1]).append("' && ");
        }
        String inner = "umount -l /.old; echo $$; " + shellCommand;
        String outer = binds + "cd '" + merged + "' && pivot_root . .old && exec /bin/busybox chroot . /bin/busybox sh -c '"
                + inner.replace("'", "'\\''") + "'";
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "/bin/busybox", "sh", "-c", outer)
                .redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("container command timed out: " + shellCommand);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        closeStreams(p);
        String[] lines = out.split("\n", 2);
        int pid;
        try {
            pid = Integer.parseInt(lines[0].trim());
        } catch (NumberFormatException e) {
            throw new IOException("container did not start: " + out);
        }
        return new Run(pid, p.exitValue(), lines.length > 1 ? lines[1] : "");
    }

    /** Starts a command inside the container without waiting (for blocking tests). */
    Process start(String shellCommand) throws IOException {
        String outer = "cd '" + merged + "' && pivot_root . .old && exec /bin/busybox chroot . /bin/busybox sh -c '"
                + ("umount -l /.old; " + shellCommand).replace("'", "'\\''") + "'";
        return new ProcessBuilder("unshare", "-m", "--propagation", "private", "/bin/busybox", "sh", "-c", outer)
                .redirectErrorStream(true).start();
    }

    /** A Process keeps its pipes open until collected; tests that count fds close them at once. */
    static void closeStreams(Process p) throws IOException {
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
    }

    private void mountOnHost(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("mount"));
        cmd.addAll(List.of(args));
        exec(cmd);
        hostMounts.add(0, Path.of(args[args.length - 1]));
    }

    static String exec(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        closeStreams(p);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(cmd + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Path m : hostMounts) {
            new ProcessBuilder("umount", "-l", m.toString()).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        }
        new ProcessBuilder("rm", "-rf", "--one-file-system", dir.toString()).start().waitFor(60, TimeUnit.SECONDS);
    }
}
