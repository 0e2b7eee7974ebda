package io.driftagent.agent.metadata.kubernetes;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import java.util.Objects;
import java.util.Optional;

/**
 * A container id as the kubelet reports it in {@code status.containerStatuses[].containerID}:
 * {@code <runtime>://<id>}, e.g. {@code containerd://3f2a...}, {@code cri-o://...}, {@code docker://...}.
 */
public record RuntimeContainerRef(ContainerRuntime runtime, ContainerId id) {
    public RuntimeContainerRef {
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(id, "id");
    }

    /** The parsed reference; empty for a blank value (a container still waiting) or a malformed one. */
    public static Optional<RuntimeContainerRef> parse(String kubeletContainerId) {
        if (kubeletContainerId == null) {
            return Optional.empty();
        }
        int separator = kubeletContainerId.indexOf("://");
        if (separator <= 0) {
            return Optional.empty();
        }
        String scheme = kubeletContainerId.substring(0, separator);
        String id = kubeletContainerId.substring(separator + 3);
        if (!isValidId(id)) {
            return Optional.empty();
        }
        return Optional.of(new RuntimeContainerRef(runtimeOf(scheme), new ContainerId(id)));
    }

    private static ContainerRuntime runtimeOf(String scheme) {
        return switch (scheme) {
            case "containerd" -> ContainerRuntime.CONTAINERD;
            case "cri-o" -> ContainerRuntime.CRIO;
            case "docker" -> ContainerRuntime.DOCKER;
            default -> ContainerRuntime.UNKNOWN;
        };
    }

    private static boolean isValidId(String id) {
        try {
            new ContainerId(id);
            return true;
        } catch (IllegalArgumentException invalid) {
            return false;
        }
    }
}
