package io.driftagent.agent.metadata.kubernetes;

import io.driftagent.agent.metadata.WorkloadMetadata;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a pod into its containers keyed by runtime container id: init, regular and ephemeral containers, plus the
 * previous instance of a restarted container ({@code lastState.terminated.containerID}) so that a late event of the
 * instance that just exited is still attributed.
 */
public final class PodContainers {
    private PodContainers() {
    }

    public static List<IndexedContainer> of(Pod pod) {
        PodStatus status = pod.getStatus();
        if (status == null) {
            return List.of();
        }
        Map<String, String> specImages = specImagesByName(pod.getSpec());
        WorkloadMetadata podOnly = podMetadata(pod);
        List<IndexedContainer> containers = new ArrayList<>();
        addAll(containers, status.getInitContainerStatuses(), specImages, podOnly);
        addAll(containers, status.getContainerStatuses(), specImages, podOnly);
        addAll(containers, status.getEphemeralContainerStatuses(), specImages, podOnly);
        return containers;
    }

    /** The pod-level metadata (no container fields): what is known when only the pod uid is. */
    public static WorkloadMetadata podMetadata(Pod pod) {
        ObjectMeta meta = pod.getMetadata();
        if (meta == null) {
            return WorkloadMetadata.UNKNOWN;
        }
        return new WorkloadMetadata(meta.getName(), meta.getNamespace(), meta.getUid(), meta.getLabels(),
                null, null, null);
    }

    private static void addAll(List<IndexedContainer> into, List<ContainerStatus> statuses,
                               Map<String, String> specImages, WorkloadMetadata podOnly) {
        if (statuses == null) {
            return;
        }
        for (ContainerStatus status : statuses) {
            String image = Optional.ofNullable(specImages.get(status.getName())).orElse(status.getImage());
            WorkloadMetadata metadata = new WorkloadMetadata(podOnly.podName(), podOnly.namespace(), podOnly.podUid(),
                    podOnly.podLabels(), status.getName(), image,
                    ImageDigests.fromImageId(status.getImageID()).orElse(null));
            RuntimeContainerRef.parse(status.getContainerID())
                    .ifPresent(ref -> into.add(new IndexedContainer(ref.id(), ref.runtime(), metadata)));
            if (status.getLastState() != null && status.getLastState().getTerminated() != null) {
                RuntimeContainerRef.parse(status.getLastState().getTerminated().getContainerID())
                        .ifPresent(ref -> into.add(new IndexedContainer(ref.id(), ref.runtime(), metadata)));
            }
        }
    }

    /** The image as written in the pod spec, which is what users write in policies; the status has it normalised. */
    private static Map<String, String> specImagesByName(PodSpec spec) {
        Map<String, String> images = new HashMap<>();
        if (spec == null) {
            return images;
        }
        if (spec.getInitContainers() != null) {
            for (Container c : spec.getInitContainers()) {
                putIfNamed(images, c.getName(), c.getImage());
            }
        }
        if (spec.getContainers() != null) {
            for (Container c : spec.getContainers()) {
                putIfNamed(images, c.getName(), c.getImage());
            }
        }
        if (spec.getEphemeralContainers() != null) {
            for (EphemeralContainer c : spec.getEphemeralContainers()) {
                putIfNamed(images, c.getName(), c.getImage());
            }
        }
        return images;
    }

    private static void putIfNamed(Map<String, String> images, String name, String image) {
        if (name != null && image != null) {
            images.put(name, image);
        }
    }
}
