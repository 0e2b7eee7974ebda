package io.driftagent.agent.metadata.docker;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.LookupCache;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.RuntimeStateFiles;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Standalone metadata from Docker's own state: {@code <dockerRoot>/containers/<id>/config.v2.json} gives the
 * container name, the image as the user named it ({@code Config.Image}), the image id and the labels. Containers
 * that dockershim created for Kubernetes carry {@code io.kubernetes.pod.name}, {@code io.kubernetes.pod.namespace},
 * {@code io.kubernetes.pod.uid} and {@code io.kubernetes.container.name} labels, which become the pod fields.
 *
 * <p>The image digest is the repository digest from {@code image/<driver>/repositories.json} when the image was
 * pulled from a registry, else the image id (the config digest, as the kubelet reports for local images).
 * The container's labels are reported as {@code podLabels} (standalone has no pods; policies match them there).
 */
public final class DockerMetadataProvider implements MetadataProvider {
    public static final Path DEFAULT_DOCKER_ROOT = Path.of("/var/lib/docker");
    /** config.v2.json holds env, labels, mounts: a few KiB; 1 MiB bounds it. */
    public static final long DEFAULT_MAX_CONFIG_BYTES = 1 << 20;
    private static final long MAX_REPOSITORIES_BYTES = 8 << 20;
    private static final int MAX_LABELS = 256;

    static final String POD_NAME = "io.kubernetes.pod.name";
    static final String POD_NAMESPACE = "io.kubernetes.pod.namespace";
    static final String POD_UID = "io.kubernetes.pod.uid";
    static final String CONTAINER_NAME = "io.kubernetes.container.name";

    private static final Logger LOG = LoggerFactory.getLogger(DockerMetadataProvider.class);

    private record RepoDigests(FileTime modified, long size, Map<String, String> digestByImageId) {
    }

    private final Path dockerRoot;
    private final long maxConfigBytes;
    private final ObjectMapper json = JsonMapper.builder().build();
    private final LookupCache cache;
    private volatile RepoDigests repoDigests = new RepoDigests(null, -1, Map.of());

    public DockerMetadataProvider(Clock clock) {
        this(DEFAULT_DOCKER_ROOT, DEFAULT_MAX_CONFIG_BYTES, clock);
    }

    public DockerMetadataProvider(Path dockerRoot, long maxConfigBytes, Clock clock) {
        this.dockerRoot = Objects.requireNonNull(dockerRoot, "dockerRoot");
        if (maxConfigBytes <= 0) {
            throw new IllegalArgumentException("maxConfigBytes must be positive: " + maxConfigBytes);
        }
        this.maxConfigBytes = maxConfigBytes;
        this.cache = new LookupCache(clock, Duration.ofSeconds(5), 4096);
    }

    @Override
    public Optional<WorkloadMetadata> lookup(ContainerId id) {
        return cache.get(id, this::load);
    }

    private Optional<WorkloadMetadata> load(ContainerId id) {
        Path config = dockerRoot.resolve("containers").resolve(id.value()).resolve("config.v2.json");
        try {
            Optional<byte[]> content = RuntimeStateFiles.read(config, maxConfigBytes);
            if (content.isEmpty()) {
                LOG.debug("no docker container {}", id);
                return Optional.empty();
            }
            return Optional.of(parse(json.readTree(content.get())));
        } catch (IOException | JacksonException unreadable) {
            LOG.warn("cannot read docker container config {}: {}", config, unreadable.getMessage());
            return Optional.empty();
        }
    }

    private WorkloadMetadata parse(JsonNode container) {
        Map<String, String> labels = new HashMap<>();
        JsonNode labelNode = container.path("Config").path("Labels");
        if (labelNode.isObject()) {
            for (Map.Entry<String, JsonNode> label : labelNode.properties()) {
                if (label.getValue().isString() && labels.size() < MAX_LABELS) {
                    labels.put(label.getKey(), label.getValue().stringValue());
                }
            }
        }
        String name = text(container.path("Name"));
        if (name != null && name.startsWith("/")) {
            name = name.substring(1);
        }
        String image = text(container.path("Config").path("Image"));
        String imageId = text(container.path("Image"));
        String digest = imageId == null ? null : repoDigestOf(imageId).orElse(imageId);
        String containerName = labels.getOrDefault(CONTAINER_NAME, name);
        return new WorkloadMetadata(labels.get(POD_NAME), labels.get(POD_NAMESPACE), labels.get(POD_UID), labels,
                containerName, image, digest);
    }

    private static String text(JsonNode node) {
        return node.isString() && !node.stringValue().isEmpty() ? node.stringValue() : null;
    }

    /** The registry digest of a pulled image ({@code name@sha256:...} keys of repositories.json), re-read on change. */
    private Optional<String> repoDigestOf(String imageId) {
        Path imageDir = dockerRoot.resolve("image");
        try (var drivers = Files.list(imageDir)) {
            for (Path driver : (Iterable<Path>) drivers::iterator) {
                Path repositories = driver.resolve("repositories.json");
                Optional<String> digest = refreshed(repositories).map(r -> r.digestByImageId().get(imageId));
                if (digest.isPresent()) {
                    return digest;
                }
            }
        } catch (IOException unreadable) {
            LOG.debug("cannot list {}: {}", imageDir, unreadable.getMessage());
        }
        return Optional.empty();
    }

    private Optional<RepoDigests> refreshed(Path repositories) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(repositories, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            RepoDigests current = repoDigests;
            if (attributes.lastModifiedTime().equals(current.modified()) && attributes.size() == current.size()) {
                return Optional.of(current);
            }
            Optional<byte[]> content = RuntimeStateFiles.read(repositories, MAX_REPOSITORIES_BYTES);
            if (content.isEmpty()) {
                return Optional.empty();
            }
            Map<String, String> digests = new HashMap<>();
            for (Map.Entry<String, JsonNode> repo : json.readTree(content.get()).path("Repositories").properties()) {
                for (Map.Entry<String, JsonNode> reference : repo.getValue().properties()) {
                    int at = reference.getKey().indexOf('@');
                    if (at > 0 && reference.getValue().isString()) {
                        digests.putIfAbsent(reference.getValue().stringValue(), reference.getKey().substring(at + 1));
                    }
                }
            }
            RepoDigests read = new RepoDigests(attributes.lastModifiedTime(), attributes.size(), Map.copyOf(digests));
            repoDigests = read;
            return Optional.of(read);
        } catch (IOException | JacksonException unreadable) {
            return Optional.empty();
        }
    }
}
