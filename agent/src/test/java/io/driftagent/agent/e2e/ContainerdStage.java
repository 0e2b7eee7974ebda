package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.config.Setting;
import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * What a standalone end-to-end test on real containerd containers stands on, set up and torn down in one place: its
 * preconditions checked (root, else the test is skipped; containerd and busybox-static, else it fails), a work
 * directory, the whole agent started on it once the test's containers run (standalone, the given exec source, alerts
 * as JSON lines into {@link #alerts()}, HTTP on a free loopback port), and on {@link #close()} the agent stopped, the
 * test's containers removed, what the test registered undone and the work directory deleted.
 */
final class ContainerdStage implements AutoCloseable {
    private final ContainerdHost containerd;
    private final Path work;
    private final AlertLog alerts;
    private final Deque<Runnable> cleanUps = new ArrayDeque<>();
    private RunningAgent agent;

    private ContainerdStage(ContainerdHost containerd, Path work) {
        this.containerd = containerd;
        this.work = work;
        this.alerts = new AlertLog(work.resolve("alerts.jsonl"));
    }

    /** Checks the preconditions and makes the work directory; the test's containers live in {@code namespace}. */
    static ContainerdStage prepare(String namespace) throws IOException {
        assumeTrue(HostCommands.isRoot(), "needs root: the agent loads BPF; containerd");
        assertThat(ContainerdHost.available()).as("containerd is running (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("busybox-static at /bin/busybox").isTrue();
        return new ContainerdStage(new ContainerdHost(namespace), Files.createTempDirectory(namespace));
    }

    ContainerdHost containerd() {
        return containerd;
    }

    Path work() {
        return work;
    }

    AlertLog alerts() {
        return alerts;
    }

    RunningAgent agent() {
        return agent;
    }

    /** Starts the agent with {@code source} and a policy that alerts on every drift; waits until it is Ready. */
    RunningAgent startAgent(String source) throws Exception {
        return startAgent(RunningAgent.alertingOnEveryDrift(source, work, alerts));
    }

    /** Starts the agent with {@code source} and {@code policy} (written to the work directory); waits until Ready. */
    RunningAgent startAgent(String source, String policy) throws Exception {
        Path file = Files.writeString(work.resolve("policy.yaml"), policy);
        return startAgent(RunningAgent.standaloneFlags(source, file, alerts.file()));
    }

    private RunningAgent startAgent(Map<Setting, String> flags) throws Exception {
        assertThat(agent).as("one agent per stage").isNull();
        agent = RunningAgent.startStandaloneAndAwaitReady(flags);
        return agent;
    }

    /** The first alert for {@code path} in container {@code containerId} within {@code wait}; fails with the log. */
    JsonNode awaitAlert(String containerId, String path, Duration wait) throws Exception {
        return alerts.await(AlertLog.forPath(containerId, path), wait).orElseThrow(() -> new AssertionError(
                "no alert for " + path + " in container " + containerId + " in:\n" + alerts));
    }

    /** Undone on {@link #close()}, after the containers are removed, latest first, before the work directory goes. */
    void onClose(Runnable cleanUp) {
        cleanUps.push(cleanUp);
    }

    @Override
    public void close() {
        if (agent != null) {
            agent.close();
        }
        containerd.removeAll();
        while (!cleanUps.isEmpty()) {
            cleanUps.pop().run();
        }
        HostCommands.quietly("rm", "-rf", work.toString());
    }
}
