package io.driftagent.agent.sandbox;

import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.host.CgroupMounts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway container without a runtime: an overlay of one image layer (built from the host's static busybox),
 * run chrooted in a private mount namespace and in a cgroup of its own on the unified hierarchy. The self-test
 * and the demo use it to exec a known image binary and a known dropped binary and watch the agent classify them.
 */
public final class OverlaySandbox implements AutoCloseable {

    /** Where the host's static busybox lives on Debian (package busybox-static). */
    public static final Path DEFAULT_BUSYBOX = Path.of("/bin/busybox");

    /** The cgroup (below the unified hierarchy's root) holding every sandbox's cgroup. */
    public static final String CGROUP_PARENT = "drift-agent-sandbox";

    private static final List<String> APPLETS = List.of("sh", "ls", "cp", "cat", "echo", "chmod", "true", "mkdir", "rm");
    private static final int MAX_OUTPUT_BYTES = 64 * 1024;

    private final String id;
    private final Path base;
    private final Path lower;
    private final Path upper;
    private final Path work;
    private final Path merged;
    private final Path cgroupDir;
    private final String cgroupRelative;
    private boolean mounted;

    private OverlaySandbox(String id, Path base, Path unifiedCgroup) {
        this.id = id;
        this.base = base;
        this.lower = base.resolve("lower");
        this.upper = base.resolve("upper");
        this.work = base.resolve("work");
        this.merged = base.resolve("merged");
        this.cgroupRelative = CGROUP_PARENT + "/" + id;
        this.cgroupDir = unifiedCgroup.resolve(cgroupRelative);
    }

    /**
     * Builds the image layer from {@code busybox}, mounts the overlay and creates the sandbox's cgroup.
     *
     * @throws SandboxException when a step fails; the message says which and why
     */
    public static OverlaySandbox create(String id, Path busybox) throws SandboxException {
        if (!id.matches("[a-z0-9][a-z0-9-]{0,40}")) {
            throw new IllegalArgumentException("sandbox id must be [a-z0-9-]: " + id);
        }
        if (!Files.isRegularFile(busybox)) {
            throw new SandboxException(SandboxException.Reason.NO_BUSYBOX,
                    "no static busybox at " + busybox + " (install busybox-static; scripts/host-setup.sh does)");
        }
        Path unified;
        try {
            // the whole hierarchy as mounted here (in a pod: the host's, bind-mounted over the namespace's own)
            unified = CgroupMounts.ofThisProcess(Path.of("/proc")).unified()
                    .orElseThrow(() -> new SandboxException(SandboxException.Reason.NO_CGROUP_V2,
                            "no cgroup v2 (unified) hierarchy mounted"));
        } catch (IOException e) {
            throw new SandboxException(SandboxException.Reason.NO_CGROUP_V2,
                    "cannot read /proc/self/mountinfo: " + e.getMessage());
        }
        OverlaySandbox sandbox;
        try {
            Path base = Files.createTempDirectory("drift-sandbox-" + id + "-");
            sandbox = new OverlaySandbox(id, base, unified);
        } catch (IOException e) {
            throw new SandboxException("cannot create the sandbox directory: " + e.getMessage(), e);
        }
        try {
            sandbox.buildImageLayer(busybox);
            sandbox.mountOverlay();
            Files.createDirectories(sandbox.cgroupDir);
            return sandbox;
        } catch (IOException | SandboxException e) {
            sandbox.close();
            throw e instanceof SandboxException se ? se : new SandboxException("sandbox set-up failed: " + e.getMessage(), e);
        }
    }

    private void buildImageLayer(Path busybox) throws IOException {
        Path bin = Files.createDirectories(lower.resolve("bin"));
        for (String dir : List.of("tmp", "dev", "proc", "sys")) {
            Files.createDirectories(lower.resolve(dir));
        }
        Files.copy(busybox, bin.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.setPosixFilePermissions(bin.resolve("busybox"), PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String applet : APPLETS) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(upper);
        Files.createDirectories(work);
        Files.createDirectories(merged);
    }

    private void mountOverlay() throws SandboxException {
        String options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
        ProcessResult result = exec(List.of("mount", "-t", "overlay", "overlay", "-o", options, merged.toString()),
                Duration.ofSeconds(10));
        if (result.exitCode() != 0) {
            String output = result.output().strip();
            // mount(8) says "cannot mount overlay read-only" for EACCES: overlayfs creates its work dir with mode 0
            // and writes in it with the mounter's credentials, which needs CAP_DAC_OVERRIDE; LSMs deny with EACCES too
            boolean denied = output.contains("read-only") || output.contains("Permission denied")
                    || output.contains("not permitted") || output.contains("permission denied");
            throw new SandboxException(denied ? SandboxException.Reason.MOUNT_DENIED : SandboxException.Reason.SETUP_FAILED,
                    "overlay mount failed: " + output);
        }
        mounted = true;
    }

    /**
     * Runs {@code script} with the sandbox's {@code /bin/sh}, chrooted into the overlay in a private mount namespace
     * that has the host's /dev, a /proc and the unified cgroup hierarchy at /sys. The process joins the sandbox's
     * cgroup only once inside the chroot, so the host tools that set the sandbox up (unshare, mount, chroot) are never
     * attributed to it.
     */
    public ProcessResult run(String script, Duration timeout) throws SandboxException {
        String joinThenRun = "echo $$ > \"/sys/$2/cgroup.procs\" && exec /bin/sh -c \"$1\"";
        String inside = "mount --rbind /dev \"$1/dev\" && mount -t proc proc \"$1/proc\""
                + " && mount -t cgroup2 cgroup2 \"$1/sys\""
                + " && exec chroot \"$1\" /bin/sh -c '" + joinThenRun + "' sh \"$2\" \"$3\"";
        return exec(List.of("unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", inside, "sh",
                merged.toString(), script, cgroupRelative), timeout);
    }

    private static ProcessResult exec(List<String> command, Duration timeout) throws SandboxException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            byte[] output;
            try (InputStream in = process.getInputStream()) {
                output = in.readNBytes(MAX_OUTPUT_BYTES);
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new SandboxException(SandboxException.Reason.RUN_FAILED, "timed out after " + timeout + ": " + command.get(0));
            }
            return new ProcessResult(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SandboxException(SandboxException.Reason.RUN_FAILED, "cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException(SandboxException.Reason.RUN_FAILED, "interrupted while running " + command.get(0), e);
        }
    }

    /** The cgroup v2 id of the sandbox: the inode of its cgroup directory, as bpf_get_current_cgroup_id reports. */
    public long cgroupId() throws IOException {
        return ((Number) Files.getAttribute(cgroupDir, "unix:ino")).longValue();
    }

    /** The sandbox's root overlay as attribution would read it from mountinfo. */
    public OverlayRoot overlayRoot() throws IOException {
        ContainerMount mount = MountTable.find(merged)
                .orElseThrow(() -> new IOException("sandbox overlay not in /proc/self/mountinfo: " + merged));
        return new OverlayRoot(mount, List.of(lower), upper, work);
    }

    public String id() {
        return id;
    }

    public Path mergedDir() {
        return merged;
    }

    public Path upperDir() {
        return upper;
    }

    public Path lowerDir() {
        return lower;
    }

    /** The host directory holding all the sandbox's layers. */
    public Path baseDir() {
        return base;
    }

    public Path cgroupDir() {
        return cgroupDir;
    }

    /** Unmounts, removes the cgroup and deletes every file. Best effort, idempotent. */
    @Override
    public void close() {
        if (mounted) {
            // closing on an interrupted thread (the agent stopping mid self-test) must still unmount: clear the
            // interrupt for the umount and restore it after, else waitFor throws at once and the mount leaks
            boolean interrupted = Thread.interrupted();
            try {
                exec(List.of("umount", "-l", merged.toString()), Duration.ofSeconds(10));
            } catch (SandboxException ignored) {
                // the temp dir deletion below reports nothing either; a leaked mount is visible in mountinfo
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            mounted = false;
        }
        try {
            Files.deleteIfExists(cgroupDir);
        } catch (IOException ignored) {
            // still has processes (a hung test); the kernel removes nothing we leave, and the next id differs
        }
        deleteTree(base);
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
        } catch (IOException e) {
            return;
        }
        for (Path p : paths) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // keep deleting the rest
            }
        }
    }

    /** What a sandbox command printed (stdout and stderr merged, bounded) and its exit code. */
    public record ProcessResult(int exitCode, String output) {
    }
}
