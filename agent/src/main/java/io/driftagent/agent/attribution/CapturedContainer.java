package io.driftagent.agent.attribution;

import java.util.Map;
import java.util.Objects;

/**
 * What was captured of a container when it appeared, kept after it is gone: who it is, its filesystems (root overlay
 * layers, and its other mounts when one of its processes could be read in time) and the runtime's annotations.
 *
 * @param identity    the container as attribution names it (id, runtime, pod uid, cgroup path)
 * @param cgroupId    its cgroup v2 id (the unified hierarchy directory's inode), 0 when not captured
 * @param filesystems its root overlay and the mounts known of it
 * @param annotations the OCI annotations of its bundle {@code config.json} (pod metadata for CRI containers)
 * @param gone        its rootfs was unmounted: the runtime deleted it (its bundle with it)
 */
public record CapturedContainer(CgroupIdentity identity, long cgroupId, ContainerFilesystems filesystems,
                                Map<String, String> annotations, boolean gone) {
    public CapturedContainer {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(filesystems, "filesystems");
        annotations = Map.copyOf(annotations);
    }
}
