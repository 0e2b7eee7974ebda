package io.driftagent.agent.metadata.containerd;

import java.util.Map;

/**
 * containerd's own record of a container (its metadata database, not the bundle): the image it was created from,
 * that image's manifest digest and the container labels ({@code ctr run --label}). Fields may be null.
 */
public record ContainerdRecord(String image, String imageDigest, Map<String, String> labels) {
    public ContainerdRecord {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
