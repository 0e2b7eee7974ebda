package io.driftagent.systest.scenario;

import io.driftagent.systest.kubelet.NodeRuntime;
import java.nio.file.Path;

/**
 * What every system test shares: the repository (chart, scripts), the agent image under test, what this node's
 * runtime can grant, and a work directory.
 */
public record SystemTestEnvironment(Path repositoryRoot, String image, NodeRuntime nodeRuntime, Path work) {

    public Path chart() {
        return repositoryRoot.resolve("deploy/helm/drift-agent");
    }
}
