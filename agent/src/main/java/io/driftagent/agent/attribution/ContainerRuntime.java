package io.driftagent.agent.attribution;

/** The runtime that created a container, as recognised from its cgroup path. */
public enum ContainerRuntime {
    CONTAINERD("containerd"), CRIO("cri-o"), DOCKER("docker"), UNKNOWN("unknown");

    private final String label;

    ContainerRuntime(String label) {
        this.label = label;
    }

    /** The name used in alerts ({@code container.runtime}). */
    public String label() {
        return label;
    }
}
