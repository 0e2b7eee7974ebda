package io.driftagent.agent.attribution;

import io.driftagent.agent.source.ExecEvent;
import java.util.Optional;

/** Finds the container of an exec: by cgroup id / path, falling back to the exec'd file's dev and mount. */
public interface ContainerAttributor {
    /** The exec's container; empty for a host process (not in any container). */
    Optional<ContainerContext> attribute(ExecEvent event);
}
