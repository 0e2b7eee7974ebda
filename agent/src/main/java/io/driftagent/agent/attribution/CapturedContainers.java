package io.driftagent.agent.attribution;

import io.driftagent.agent.source.ExecEvent;
import java.util.Optional;

/**
 * Containers captured when they appeared (their rootfs mounted), still known after their processes, cgroup, mounts
 * and writable layer are gone: what attribution and classification fall back on for a short-lived container.
 */
public interface CapturedContainers {

    /** The container an exec belongs to: by the event's cgroup id, else its mount namespace, else its overlay's device. */
    Optional<CapturedContainer> find(ExecEvent event);

    /** The container with this id, if captured. */
    Optional<CapturedContainer> byId(ContainerId id);

    /** Knows no container. */
    CapturedContainers NONE = new CapturedContainers() {
        @Override
        public Optional<CapturedContainer> find(ExecEvent event) {
            return Optional.empty();
        }

        @Override
        public Optional<CapturedContainer> byId(ContainerId id) {
            return Optional.empty();
        }
    };
}
