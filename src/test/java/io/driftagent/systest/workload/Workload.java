package io.driftagent.systest.workload;

import io.driftagent.agent.fixture.ContainerdHost;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/**
 * A workload pod on this node: a real containerd container (CRI-style: namespace {@code k8s.io}, the kubepods
 * cgroup of its pod, the CRI annotations) and its Pod on the API server, whose status names that container.
 */
public record Workload(String namespace, String podName, String podUid, String containerName, String containerId) {

    /** Creates the Pod on the API server, then starts its container. */
    public static Workload start(ContainerdHost containerd, KubernetesClient api, String nodeName, String namespace,
                                 String podName, String image, String imageDigest) {
        Workload workload = declare(api, nodeName, namespace, podName, image, imageDigest);
        containerd.runAsCriContainer(image, workload.containerId(), workload.podUid(), podName, namespace, "app");
        return workload;
    }

    /**
     * Creates the Pod on the API server, its status naming a container not started yet (the caller starts it, e.g.
     * one that runs to completion with {@link ContainerdHost#criPodOptions}).
     */
    public static Workload declare(KubernetesClient api, String nodeName, String namespace, String podName,
                                   String image, String imageDigest) {
        String containerId = ContainerdHost.randomContainerId();
        String repository = image.substring(0, image.lastIndexOf(':'));
        Pod pod = api.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(podName).withNamespace(namespace).withLabels(Map.of("app", podName))
                .endMetadata()
                .withNewSpec().withNodeName(nodeName)
                .addNewContainer().withName("app").withImage(image).endContainer()
                .endSpec()
                .withNewStatus().withPhase("Running")
                .addToContainerStatuses(new ContainerStatusBuilder().withName("app")
                        .withContainerID("containerd://" + containerId).withImage(image)
                        .withImageID(repository + "@" + imageDigest).withReady(true).withRestartCount(0).build())
                .endStatus()
                .build()).create();
        return new Workload(namespace, podName, pod.getMetadata().getUid(), "app", containerId);
    }

    /** Runs {@code script} with the container's {@code /bin/sh}; returns its output. */
    public String exec(ContainerdHost containerd, String script) {
        return containerd.exec(containerId, script);
    }
}
