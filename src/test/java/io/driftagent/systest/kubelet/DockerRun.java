package io.driftagent.systest.kubelet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The pod's container as a {@code docker run}: the options, the image and its arguments; what kubelet does on the
 * node first ({@link VolumeAction}s); the probes; and every place where this differs from kubelet + containerd.
 */
public record DockerRun(List<String> options, String image, List<String> arguments, List<VolumeAction> volumes,
                        Map<String, String> env, Map<String, Integer> ports, Map<String, Probe> probes,
                        List<String> deviations) {

    public DockerRun {
        options = List.copyOf(options);
        arguments = List.copyOf(arguments);
        volumes = List.copyOf(volumes);
        env = Map.copyOf(env);
        ports = Map.copyOf(ports);
        probes = Map.copyOf(probes);
        deviations = List.copyOf(deviations);
    }

    /** {@code docker run -d --name <name> <options> <image> <arguments>}. */
    public List<String> argv(String name) {
        List<String> argv = new ArrayList<>(List.of("docker", "run", "-d", "--name", name));
        argv.addAll(options);
        argv.add(image);
        argv.addAll(arguments);
        return argv;
    }

    public java.util.Optional<Probe> probe(String kind) {
        return java.util.Optional.ofNullable(probes.get(kind));
    }
}
