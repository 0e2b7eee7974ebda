package io.driftagent.agent.attribution;

import java.util.Objects;

/**
 * What a cgroup path says about the container in it.
 *
 * @param id         the runtime's container id
 * @param runtime    the runtime recognised from the path's naming
 * @param podUid     the Kubernetes pod uid (dashed form), or null outside Kubernetes
 * @param cgroupPath the path it was recognised from, with any cgroup-namespace {@code /..} prefix removed
 */
public record CgroupIdentity(ContainerId id, ContainerRuntime runtime, String podUid, String cgroupPath) {
    public CgroupIdentity {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(cgroupPath, "cgroupPath");
    }
}
