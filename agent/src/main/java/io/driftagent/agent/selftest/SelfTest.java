package io.driftagent.agent.selftest;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.sandbox.OverlaySandbox;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.driftagent.agent.sandbox.SandboxException;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proves that detection works on this node, end to end through the running pipeline. Peers break silently on some
 * kernels; this agent says so on {@code /readyz}, in the {@code drift_selftest} gauge and in one log line per run.
 *
 * <p>Two modes. {@link Mode#OVERLAY}: execs a canary dropped into a throwaway overlay sandbox and waits to see it
 * classified {@link DriftKind#ADDED} (and an image binary {@link DriftKind#IMAGE}): the whole classification path. Where
 * the sandbox cannot be had — the chart's pod has no {@code CAP_DAC_OVERRIDE} (overlayfs makes its work dir mode 0 and
 * writes in it with the mounter's credentials, so {@code mount} fails with EACCES, "cannot mount overlay read-only"),
 * AppArmor or SELinux deny {@code mount}, a cgroup v1 node has no unified hierarchy — it falls back to
 * {@link Mode#EXEC}, which needs no mount: it copies a canary into its own writable temp directory (the pod's
 * {@code /tmp} emptyDir), execs it, and waits to see that exec delivered by the exec source with the canary's
 * identity (device and inode); when attribution puts it in a container (the agent's own pod) it must also be
 * classified as drift (not {@link DriftKind#IMAGE}). Either way readiness means "the exec source sees this node's
 * execs". A canary's alerts never reach the sinks.
 */
public final class SelfTest {

    private static final Logger log = LoggerFactory.getLogger(SelfTest.class);
    /** The canary is busybox under an applet name, so it runs; it sleeps so that /proc still describes it. */
    static final String CANARY_PATH = "/tmp/sleep";
    private static final String CANARY_SCRIPT = "cp /bin/busybox " + CANARY_PATH + " && /bin/true && " + CANARY_PATH + " 0.3";
    /** Busybox runs {@code argv[1]} as the applet when its own name starts with "busybox". */
    private static final String EXEC_CANARY_PREFIX = "busybox.drift-canary-";
    private static final Duration EXEC_CANARY_RUN_LIMIT = Duration.ofSeconds(10);

    /** How a run tested detection. */
    public enum Mode {
        /** a dropped binary in an overlay sandbox container, classified ADDED */
        OVERLAY,
        /** a canary exec'd from the agent's own temp directory, seen by the exec source (no mount needed) */
        EXEC,
        /** the temp directory is noexec: the agent's own busybox exec'd in place, seen by the exec source */
        EXEC_IMAGE;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The outcome of one run.
     *
     * @param reason a stable code: why it failed, or for a pass in {@link Mode#EXEC} why the overlay sandbox could not
     *               be used ({@code mount_denied}, {@code no_cgroup_v2}, ...); {@code ok} for an overlay pass
     */
    public record Result(boolean passed, Mode mode, String reason, String detail, Instant at) {
        public Result {
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }

    private final Clock clock;
    private final SandboxContainers sandboxes;
    private final Path busybox;
    private final Duration timeout;
    private final Path canaryDir;
    private final java.util.function.Consumer<Path> watchCanaryDir;
    private final MeterRegistry registry;
    private final AtomicInteger runs = new AtomicInteger();
    private final AtomicReference<Result> last = new AtomicReference<>();

    /**
     * @param canaryDir a writable, exec-able directory of the agent's own (the pod's /tmp emptyDir) for the exec canary
     * @param registry  where {@code drift.selftest} and {@code drift.selftest.runs} go
     */
    public SelfTest(Clock clock, SandboxContainers sandboxes, Path busybox, Duration timeout, Path canaryDir,
                    MeterRegistry registry) {
        this(clock, sandboxes, busybox, timeout, canaryDir, registry, dir -> { });
    }

    /**
     * @param watchCanaryDir called with the directory of an exec canary before it runs: a source that sees only what
     *                       it was asked to watch (fanotify) watches it there
     */
    public SelfTest(Clock clock, SandboxContainers sandboxes, Path busybox, Duration timeout, Path canaryDir,
                    MeterRegistry registry, java.util.function.Consumer<Path> watchCanaryDir) {
        this.watchCanaryDir = watchCanaryDir;
        this.clock = clock;
        this.sandboxes = sandboxes;
        this.busybox = busybox;
        this.timeout = timeout;
        this.canaryDir = canaryDir;
        this.registry = registry;
        Gauge.builder("drift.selftest", last, r -> r.get() == null ? Double.NaN : r.get().passed() ? 1 : 0)
                .description("1 when the last self-test run passed (detection works on this node), 0 when it failed;"
                        + " NaN before the first run")
                .register(registry);
    }

    /** Runs the canary once, synchronously, and records the result. The pipeline and the source must be running. */
    public Result run() {
        String id = "selftest-" + ProcessHandle.current().pid() + "-" + runs.incrementAndGet();
        Result result;
        try (OverlaySandbox sandbox = OverlaySandbox.create(id, busybox)) {
            result = inSandbox(sandbox);
        } catch (SandboxException e) {
            result = execCanary(e.reason(), "overlay sandbox unavailable (" + e.getMessage().strip() + ")");
        } catch (IOException e) {
            result = execCanary(SandboxException.Reason.SETUP_FAILED, "overlay sandbox unavailable (" + e.getMessage() + ")");
        }
        return record(result);
    }

    private Result inSandbox(OverlaySandbox sandbox) throws IOException {
        CompletableFuture<Classification> canary = new CompletableFuture<>();
        CompletableFuture<Classification> image = new CompletableFuture<>();
        ContainerId containerId = sandboxes.register(sandbox,
                new WorkloadMetadata(null, null, null, Map.of(), "drift-self-test", "drift-agent/self-test", null),
                false, (event, classification) -> observe(event, classification, canary, image));
        try {
            OverlaySandbox.ProcessResult ran;
            double lostBefore = execsLost();
            try {
                ran = sandbox.run(CANARY_SCRIPT, Duration.ofSeconds(10));
            } catch (SandboxException e) {
                return execCanary(e.reason(), "overlay sandbox cannot run its canary (" + e.getMessage() + ")");
            }
            if (ran.exitCode() != 0) {
                // the sandbox mounted but its process could not start inside (joining its cgroup from a private
                // cgroup namespace, a denied /proc mount): the environment's limit, not detection's
                return execCanary(SandboxException.Reason.RUN_FAILED,
                        "overlay sandbox canary did not run (" + ran.output().strip() + ")");
            }
            return verdict(canary, image, lostBefore);
        } finally {
            sandboxes.unregister(containerId);
        }
    }

    private static void observe(ExecEvent event, Classification classification,
                                CompletableFuture<Classification> canary, CompletableFuture<Classification> image) {
        if (classification.path().equals(CANARY_PATH) || event.filename().endsWith(CANARY_PATH)) {
            canary.complete(classification);
        } else if (classification.kind() == DriftKind.IMAGE) {
            image.complete(classification);
        }
    }

    private Result verdict(CompletableFuture<Classification> canary, CompletableFuture<Classification> image,
                           double lostBefore) {
        try {
            Classification dropped = canary.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (dropped.kind() != DriftKind.ADDED) {
                return new Result(false, Mode.OVERLAY, "canary_misclassified", "canary " + CANARY_PATH + " classified "
                        + dropped.kind() + (dropped.reason() == null ? "" : " (" + dropped.reason() + ")")
                        + ", expected ADDED", clock.instant());
            }
            boolean imageSeen = image.isDone();
            return new Result(true, Mode.OVERLAY, "ok", "canary " + CANARY_PATH + " classified ADDED"
                    + (imageSeen ? ", image binary classified IMAGE" : ""), clock.instant());
        } catch (TimeoutException e) {
            String lost = lostSince(lostBefore);
            return new Result(false, Mode.OVERLAY, "canary_not_seen", "canary exec not seen by the pipeline within "
                    + timeout + (lost.isEmpty() ? " (exec source not delivering on this kernel?)" : lost),
                    clock.instant());
        } catch (ExecutionException e) {
            return new Result(false, Mode.OVERLAY, "canary_failed", "canary failed: " + e.getCause(), clock.instant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, Mode.OVERLAY, "interrupted", "interrupted", clock.instant());
        }
    }

    /** The fallback: exec a copy of a binary from the agent's own writable directory and watch the source see it. */
    private Result execCanary(SandboxException.Reason whyNoSandbox, String sandboxDetail) {
        String why = whyNoSandbox.name().toLowerCase(Locale.ROOT);
        Optional<List<String>> command = canaryCommand();
        if (command.isEmpty()) {
            return new Result(false, Mode.EXEC, "no_canary_binary", sandboxDetail + "; no binary to use as the exec"
                    + " canary (" + busybox + ", /bin/sleep)", clock.instant());
        }
        Path original = Path.of(command.get().get(0));
        List<String> args = command.get().subList(1, command.get().size());
        Path canary = canaryDir.resolve(EXEC_CANARY_PREFIX + ProcessHandle.current().pid() + "-" + runs.get());
        try {
            try {
                Files.copy(original, canary, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(canary, PosixFilePermissions.fromString("rwx------"));
            } catch (IOException e) {
                return new Result(false, Mode.EXEC, "exec_canary_failed", sandboxDetail + "; cannot place the exec canary "
                        + canary + ": " + e.getMessage(), clock.instant());
            }
            try {
                return watchedExec(Mode.EXEC, canary, args, why, sandboxDetail);
            } catch (IOException notExecutable) {
                // a noexec temp directory (Docker's tmpfs default, hardened clusters): exec the agent's own copy,
                // which proves the source and attribution, though not the classification of a dropped file
                String noexec = sandboxDetail + "; exec canary " + canary + " cannot run (a noexec temp directory?): "
                        + notExecutable.getMessage();
                try {
                    return watchedExec(Mode.EXEC_IMAGE, original, args, why, noexec + "; exec'd " + original + " instead");
                } catch (IOException e) {
                    return new Result(false, Mode.EXEC, "exec_canary_failed", noexec + "; nor can " + original + " run: "
                            + e.getMessage(), clock.instant());
                }
            }
        } finally {
            try {
                Files.deleteIfExists(canary);
            } catch (IOException ignored) {
                // the next run replaces it
            }
        }
    }

    /** Execs {@code file}, watched by its identity, and judges what the pipeline made of it. */
    private Result watchedExec(Mode mode, Path file, List<String> args, String why, String prefix) throws IOException {
        watchCanaryDir.accept(file.getParent());
        CompletableFuture<Optional<ContainerContext>> seen = new CompletableFuture<>();
        CompletableFuture<Classification> classified = new CompletableFuture<>();
        try (SandboxContainers.CanaryWatch watch = sandboxes.watchCanary(file, new SandboxContainers.CanaryObserver() {
            @Override
            public void seen(ExecEvent event, Optional<ContainerContext> container) {
                seen.complete(container);
            }

            @Override
            public void classified(ExecEvent event, Classification classification) {
                classified.complete(classification);
            }
        })) {
            double lostBefore = execsLost();
            String ran = runCanary(file, args);
            if (ran != null) {
                return new Result(false, mode, "exec_canary_failed", prefix + "; " + file + " did not run: " + ran,
                        clock.instant());
            }
            return execVerdict(mode, file, why, prefix, seen, classified, lostBefore);
        }
    }

    private Result execVerdict(Mode mode, Path canary, String why, String sandboxDetail,
                               CompletableFuture<Optional<ContainerContext>> seen,
                               CompletableFuture<Classification> classified, double lostBefore) {
        try {
            Optional<ContainerContext> container = seen.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            String seenDetail = sandboxDetail + "; exec canary " + canary + " seen by the exec source";
            if (container.isEmpty()) {
                return new Result(true, mode, why, seenDetail + " (not in a container: the agent runs on the host)",
                        clock.instant());
            }
            String in = " in container " + container.get().runtime().name().toLowerCase(Locale.ROOT) + ":"
                    + container.get().id().value();
            Classification c = classified.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (mode == Mode.EXEC && c.kind() == DriftKind.IMAGE) {
                return new Result(false, mode, "exec_canary_misclassified", seenDetail + in
                        + " but classified IMAGE: a binary copied at run time is not the image's", clock.instant());
            }
            return new Result(true, mode, why, seenDetail + in + ", classified " + c.kind()
                    + (c.reason() == null ? "" : " (" + c.reason() + ")"), clock.instant());
        } catch (TimeoutException e) {
            boolean wasSeen = seen.isDone();
            return new Result(false, mode, wasSeen ? "exec_canary_not_classified" : "exec_canary_not_seen",
                    sandboxDetail + "; exec canary " + canary + (wasSeen ? " seen but not classified" : " not seen by the"
                    + " exec source") + " within " + timeout + lostSince(lostBefore), clock.instant());
        } catch (ExecutionException e) {
            return new Result(false, mode, "exec_canary_failed", "exec canary failed: " + e.getCause(), clock.instant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, mode, "interrupted", "interrupted", clock.instant());
        }
    }

    /**
     * Execs the pipeline dropped and the source lost so far ({@code drift.pipeline.dropped}, {@code drift.source.lost}
     * in the agent's registry): a canary that was not seen while these grew was most likely among them.
     */
    private double execsLost() {
        double n = 0;
        for (String name : List.of("drift.pipeline.dropped", "drift.source.lost")) {
            for (Meter meter : registry.find(name).meters()) {
                for (Measurement m : meter.measure()) {
                    n += m.getValue();
                }
            }
        }
        return n;
    }

    /** What was lost since {@code before}, said as the likely cause of a canary not seen; empty when nothing was. */
    private String lostSince(double before) {
        long lost = (long) (execsLost() - before);
        return lost <= 0 ? "" : "; meanwhile " + lost + " execs were dropped or lost on their way through the agent"
                + " (drift_pipeline_dropped_total, drift_source_lost_total: the node execs faster than the agent reads"
                + " them), the canary most likely among them";
    }

    /** The canary binary and its arguments: busybox's sleep applet, else the system's sleep. */
    private Optional<List<String>> canaryCommand() {
        if (Files.isRegularFile(busybox)) {
            return Optional.of(List.of(busybox.toString(), "sleep", "0.3"));
        }
        Path sleep = Path.of("/bin/sleep");
        return Files.isRegularFile(sleep) ? Optional.of(List.of(sleep.toString(), "0.3")) : Optional.empty();
    }

    /** Runs the canary; null when it exited 0, else what went wrong. */
    private static String runCanary(Path canary, List<String> args) throws IOException {
        List<String> command = new java.util.ArrayList<>();
        command.add(canary.toString());
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        try (InputStream in = process.getInputStream()) {
            byte[] output = in.readNBytes(4096);
            if (!process.waitFor(EXEC_CANARY_RUN_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return "still running after " + EXEC_CANARY_RUN_LIMIT;
            }
            return process.exitValue() == 0 ? null
                    : "exit " + process.exitValue() + ": " + new String(output, StandardCharsets.UTF_8).strip();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private Result record(Result result) {
        if (Thread.currentThread().isInterrupted()) {
            log.debug("self-test interrupted (shutting down): {}", result.detail());
            return result;
        }
        last.set(result);
        Counter.builder("drift.selftest.runs")
                .description("self-test runs by result, mode (overlay sandbox, or exec canary where no sandbox can be"
                        + " had) and reason (the failure, or why the exec canary was used)")
                .tag("result", result.passed() ? "pass" : "fail")
                .tag("mode", result.mode().tag())
                .tag("reason", result.reason())
                .register(registry).increment();
        if (result.passed()) {
            log.info("self-test passed (mode {}, reason {}): {}", result.mode().tag(), result.reason(), result.detail());
        } else {
            log.error("self-test FAILED (mode {}, reason {}): {}", result.mode().tag(), result.reason(), result.detail());
        }
        return result;
    }

    /** The last result, or null before the first run finished. */
    public Result lastResult() {
        return last.get();
    }

    /** Readiness: passing only after a passing run. */
    public ReadinessCheck.Result readiness() {
        Result result = last.get();
        if (result == null) {
            return ReadinessCheck.Result.failing("self-test not finished yet");
        }
        return result.passed() ? ReadinessCheck.Result.passing()
                : ReadinessCheck.Result.failing(result.reason() + ": " + result.detail());
    }
}
