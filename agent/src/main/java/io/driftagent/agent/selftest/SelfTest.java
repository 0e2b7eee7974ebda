package io.driftagent.agent.selftest;

import io.driftagent.agent.classify.Classification;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.k8s.WorkloadMetadata;
import io.driftagent.agent.proc.ContainerId;
import io.driftagent.agent.sandbox.OverlaySandbox;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.driftagent.agent.sandbox.SandboxException;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proves that detection works on this kernel, end to end through the running pipeline: execs a canary dropped into
 * a throwaway overlay sandbox and waits to see it classified {@link DriftKind#ADDED}, and an image binary classified
 * {@link DriftKind#IMAGE}. Peers break silently on some kernels; this agent says so on {@code /readyz}.
 */
public final class SelfTest {

    private static final Logger log = LoggerFactory.getLogger(SelfTest.class);
    /** The canary is busybox under an applet name, so it runs; it sleeps so that /proc still describes it. */
    static final String CANARY_PATH = "/tmp/sleep";
    private static final String CANARY_SCRIPT = "cp /bin/busybox " + CANARY_PATH + " && /bin/true && " + CANARY_PATH + " 0.3";

    /** The outcome of one run. */
    public record Result(boolean passed, String detail, Instant at) {
    }

    private final Clock clock;
    private final SandboxContainers sandboxes;
    private final Path busybox;
    private final Duration timeout;
    private final AtomicInteger runs = new AtomicInteger();
    private final AtomicReference<Result> last = new AtomicReference<>();

    public SelfTest(Clock clock, SandboxContainers sandboxes, Path busybox, Duration timeout) {
        this.clock = clock;
        this.sandboxes = sandboxes;
        this.busybox = busybox;
        this.timeout = timeout;
    }

    /** Runs the canary once, synchronously, and records the result. The pipeline and the source must be running. */
    public Result run() {
        String id = "selftest-" + ProcessHandle.current().pid() + "-" + runs.incrementAndGet();
        Result result;
        try (OverlaySandbox sandbox = OverlaySandbox.create(id, busybox)) {
            CompletableFuture<Classification> canary = new CompletableFuture<>();
            CompletableFuture<Classification> image = new CompletableFuture<>();
            ContainerId containerId = sandboxes.register(sandbox,
                    new WorkloadMetadata(null, null, null, Map.of(), "drift-self-test", "drift-agent/self-test", null),
                    false, (event, classification) -> observe(event, classification, canary, image));
            try {
                OverlaySandbox.ProcessResult ran = sandbox.run(CANARY_SCRIPT, Duration.ofSeconds(10));
                if (ran.exitCode() != 0) {
                    return record(new Result(false, "canary did not run: " + ran.output().strip(), clock.instant()));
                }
                result = verdict(canary, image);
            } finally {
                sandboxes.unregister(containerId);
            }
        } catch (SandboxException | IOException e) {
            result = new Result(false, "sandbox: " + e.getMessage(), clock.instant());
        }
        return record(result);
    }

    private static void observe(ExecEvent event, Classification classification,
                                CompletableFuture<Classification> canary, CompletableFuture<Classification> image) {
        if (classification.path().equals(CANARY_PATH) || event.filename().endsWith(CANARY_PATH)) {
            canary.complete(classification);
        } else if (classification.kind() == DriftKind.IMAGE) {
            image.complete(classification);
        }
    }

    private Result verdict(CompletableFuture<Classification> canary, CompletableFuture<Classification> image) {
        try {
            Classification dropped = canary.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (dropped.kind() != DriftKind.ADDED) {
                return new Result(false, "canary " + CANARY_PATH + " classified " + dropped.kind()
                        + (dropped.reason() == null ? "" : " (" + dropped.reason() + ")") + ", expected ADDED", clock.instant());
            }
            boolean imageSeen = image.isDone();
            return new Result(true, "canary " + CANARY_PATH + " classified ADDED"
                    + (imageSeen ? ", image binary classified IMAGE" : ""), clock.instant());
        } catch (TimeoutException e) {
            return new Result(false, "canary exec not seen by the pipeline within " + timeout
                    + " (exec source not delivering on this kernel?)", clock.instant());
        } catch (ExecutionException e) {
            return new Result(false, "canary failed: " + e.getCause(), clock.instant());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, "interrupted", clock.instant());
        }
    }

    private Result record(Result result) {
        if (Thread.currentThread().isInterrupted()) {
            log.debug("self-test interrupted (shutting down): {}", result.detail());
            return result;
        }
        last.set(result);
        if (result.passed()) {
            log.info("self-test passed: {}", result.detail());
        } else {
            log.error("self-test FAILED: {}", result.detail());
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
        return result.passed() ? ReadinessCheck.Result.passing() : ReadinessCheck.Result.failing(result.detail());
    }
}
