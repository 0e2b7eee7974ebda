package io.driftagent.systest.pod;

import io.driftagent.systest.kubelet.Probe;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes the container as kubelet does, with the rendered timings: the startup probe (if any) from its initial
 * delay every period, the container "killed" after failureThreshold failures; then the readiness probe. A
 * container that exits on the way is a crash loop and ends the wait at once.
 */
public final class KubeletProber {

    private static final Logger LOG = LoggerFactory.getLogger(KubeletProber.class);

    /**
     * How the wait for Ready ended.
     *
     * @param ready      whether the readiness probe succeeded within the budget
     * @param elapsed    from {@code docker run} to the first successful readiness probe (or to giving up)
     * @param budget     initialDelay + failureThreshold x period of the startup probe (readiness probe without one)
     * @param lastStatus the last HTTP status (-1: no answer)
     * @param lastBody   the last answer's body, or why there was none
     * @param reason     why it is not ready; empty when ready
     */
    public record Readiness(boolean ready, Duration elapsed, Duration budget, int lastStatus, String lastBody,
                            String reason) {
    }

    private KubeletProber() {
    }

    public static Readiness awaitReady(AgentContainer container) throws InterruptedException {
        Optional<Probe> startup = container.run().probe("startup");
        Probe readiness = container.run().probe("readiness")
                .orElseThrow(() -> new AssertionError("the container has no readiness probe"));
        Duration budget = startup.map(Probe::budget).orElse(readiness.budget());
        long start = container.startedNanos();
        long deadline = start + budget.toNanos();
        Answer last = new Answer(-1, "not probed");
        if (startup.isPresent()) {
            Probe probe = startup.get();
            sleepUntil(start + TimeUnit.SECONDS.toNanos(probe.initialDelaySeconds()));
            int failures = 0;
            while (true) {
                if (!container.running()) {
                    return notReady(start, budget, last, "the container exited during start-up (kubelet: "
                            + "CrashLoopBackOff)");
                }
                long probeAt = System.nanoTime();
                last = probe(container, probe);
                if (last.success()) {
                    LOG.info("startup probe succeeded after {} ms", millisSince(start));
                    break;
                }
                if (++failures >= probe.failureThreshold()) {
                    return notReady(start, budget, last, "startup probe failed " + failures + " times: kubelet kills "
                            + "and restarts the container");
                }
                sleepUntil(probeAt + TimeUnit.SECONDS.toNanos(probe.periodSeconds()));
            }
        } else {
            sleepUntil(start + TimeUnit.SECONDS.toNanos(readiness.initialDelaySeconds()));
        }
        while (true) {
            if (!container.running()) {
                return notReady(start, budget, last, "the container exited (kubelet: CrashLoopBackOff)");
            }
            long probeAt = System.nanoTime();
            last = probe(container, readiness);
            if (last.success()) {
                return new Readiness(true, Duration.ofNanos(System.nanoTime() - start), budget, last.status(),
                        last.body(), "");
            }
            long next = probeAt + TimeUnit.SECONDS.toNanos(readiness.periodSeconds());
            if (next > deadline) {
                return notReady(start, budget, last, "the readiness probe did not succeed within the budget");
            }
            sleepUntil(next);
        }
    }

    private static Readiness notReady(long start, Duration budget, Answer last, String reason) {
        return new Readiness(false, Duration.ofNanos(System.nanoTime() - start), budget, last.status(), last.body(),
                reason);
    }

    record Answer(int status, String body) {
        /** kubelet: an HTTP status from 200 to 399 is a success. */
        boolean success() {
            return status >= 200 && status < 400;
        }
    }

    static Answer probe(AgentContainer container, Probe probe) throws InterruptedException {
        try {
            HttpResponse<String> response = container.get(probe.port(), probe.path(),
                    Duration.ofSeconds(probe.timeoutSeconds()));
            return new Answer(response.statusCode(), response.body());
        } catch (java.io.IOException e) {
            return new Answer(-1, probe.kind() + " probe: " + e);
        }
    }

    private static long millisSince(long start) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
