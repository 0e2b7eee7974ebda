package io.driftagent.agent.attribution;

import java.util.Objects;

/**
 * What attribution knows about the container an exec happened in, captured at exec time.
 *
 * @param id          the runtime's container id
 * @param runtime     which runtime created it
 * @param cgroupPath  the cgroup path it was recognised from
 * @param podUid      the Kubernetes pod uid encoded in the cgroup path, or null outside Kubernetes
 * @param filesystems its mounts, or null when they could not be read (process and container already gone)
 */
public record ContainerContext(ContainerId id, ContainerRuntime runtime, String cgroupPath, String podUid,
                               ContainerFilesystems filesystems) {
    public ContainerContext {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(cgroupPath, "cgroupPath");
    }
}
