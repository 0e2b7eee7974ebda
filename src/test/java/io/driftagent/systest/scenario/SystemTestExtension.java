package io.driftagent.systest.scenario;

import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.systest.image.AgentImage;
import io.driftagent.systest.kubelet.NodeRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provides the {@link SystemTestEnvironment} to a system test, made once per test run (the image is built or
 * checked once). Its preconditions FAIL the test, never skip it: root, Docker, containerd, busybox-static.
 */
public final class SystemTestExtension implements ParameterResolver {

    private static final Logger LOG = LoggerFactory.getLogger(SystemTestExtension.class);
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
            SystemTestExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == SystemTestEnvironment.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(Prepared.class,
                key -> new Prepared(create()), Prepared.class).environment();
    }

    /** The run's environment; JUnit closes it with the root store, which removes the work directory. */
    private record Prepared(SystemTestEnvironment environment) implements AutoCloseable {
        @Override
        public void close() {
            HostCommands.quietly("rm", "-rf", environment.work().toString());
        }
    }

    private static SystemTestEnvironment create() {
        require(HostCommands.isRoot(), "the system tests run as root (the agent container is privileged-ish, "
                + "containerd and Docker are driven directly)");
        require(HostCommands.works("docker", "version"), "Docker is not running (scripts/host-setup.sh starts it)");
        require(ContainerdHost.available(), "containerd is not running (scripts/host-setup.sh starts it)");
        require(BusyboxImage.available(), "busybox-static is not installed at /bin/busybox");
        try {
            Path root = Path.of(System.getProperty("drift.repository.root", "../..")).toAbsolutePath().normalize();
            require(Files.isRegularFile(root.resolve("deploy/helm/drift-agent/Chart.yaml")),
                    "drift.repository.root " + root + " is not the repository");
            String image = AgentImage.reference(root);
            NodeRuntime runtime = new NodeRuntime(NodeRuntime.hostBoundingSet(), dockerKnowsBpfCapability(image),
                    false);
            Path work = Files.createTempDirectory("drift-systest");
            LOG.info("system tests: image {}, repository {}, node runtime {}, work {}", image, root, runtime, work);
            return new SystemTestEnvironment(root, image, runtime, work);
        } catch (IOException e) {
            throw new AssertionError("cannot prepare the system tests", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Docker 20.10 refuses {@code --cap-add BPF} ("unknown capability"); later versions accept it. */
    private static boolean dockerKnowsBpfCapability(String image) {
        String name = "drift-systest-capcheck-" + ProcessHandle.current().pid();
        boolean known = HostCommands.works("docker", "create", "--name", name, "--cap-add", "BPF", image, "true");
        HostCommands.quietly("docker", "rm", "-f", name);
        return known;
    }

    private static void require(boolean holds, String message) {
        if (!holds) {
            throw new AssertionError("system test precondition: " + message);
        }
    }
}
