package io.driftagent.agent.metadata.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Map;

/** Pods as a kubelet reports them, with container statuses pointing at runtime container ids. */
final class TestPods {
    static final String NGINX_DIGEST = "sha256:" + "a1".repeat(32);
    static final String BUSYBOX_DIGEST = "sha256:" + "b2".repeat(32);
    static final String DEBUG_DIGEST = "sha256:" + "c3".repeat(32);

    private TestPods() {
    }

    static String hexId(char c) {
        return String.valueOf(c).repeat(64);
    }

    static ContainerStatus status(String name, String containerId, String image, String digest) {
        return new ContainerStatusBuilder().withName(name).withContainerID(containerId).withImage(image)
                .withImageID(image.replaceFirst(":[^:/]+$", "") + "@" + digest).withReady(true).withRestartCount(0)
                .build();
    }

    /** A pod with an init container, a regular container and an ephemeral debug container, all with ids. */
    static Pod webPod(String name, String uid, String node, String initId, String mainId, String debugId) {
        return new PodBuilder()
                .withNewMetadata().withName(name).withNamespace("shop").withUid(uid)
                    .withLabels(Map.of("app", "web", "tier", "front")).endMetadata()
                .withNewSpec().withNodeName(node)
                    .addNewInitContainer().withName("setup").withImage("busybox:1.36").endInitContainer()
                    .addNewContainer().withName("nginx").withImage("nginx:1.25").endContainer()
                    .addNewEphemeralContainer().withName("debugger").withImage("debug/tools:2").endEphemeralContainer()
                .endSpec()
                .withNewStatus().withPhase("Running")
                    .addToInitContainerStatuses(status("setup", "containerd://" + initId,
                            "docker.io/library/busybox:1.36", BUSYBOX_DIGEST))
                    .addToContainerStatuses(status("nginx", "containerd://" + mainId,
                            "docker.io/library/nginx:1.25", NGINX_DIGEST))
                    .addToEphemeralContainerStatuses(status("debugger", "containerd://" + debugId,
                            "docker.io/debug/tools:2", DEBUG_DIGEST))
                .endStatus()
                .build();
    }
}
