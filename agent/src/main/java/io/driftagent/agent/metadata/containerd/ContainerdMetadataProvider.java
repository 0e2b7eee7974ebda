package io.driftagent.agent.metadata.containerd;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.metadata.LookupCache;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.RuntimeStateFiles;
import io.driftagent.agent.metadata.WorkloadMetadata;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Standalone metadata from containerd's task bundles: {@code <taskRoot>/<namespace>/<id>/config.json} (the OCI
 * runtime spec containerd hands to runc). CRI containers (Kubernetes) carry the {@code io.kubernetes.cri.*}
 * annotations (pod name, namespace, uid, container name, image); plain {@code ctr run} containers carry only what
 * their creator annotated: the container name is then the container id, and the other OCI annotations become the
 * labels (there is nothing else label-like in the bundle). The image of a plain {@code ctr run} container is not in
 * the bundle but in containerd's metadata database: when given {@link ContainerdRecords}, the provider asks for it
 * once per such container on its own background thread (the first lookups answer without the image, later ones
 * with image, digest and the container's {@code --label}s).
 *
 * <p>Results are cached per container; a miss is retried after a few seconds. Lookups never block on a process.
 */
public final class ContainerdMetadataProvider implements MetadataProvider, AutoCloseable {
    /** containerd's default task state directory (runtime v2 shim bundles). */
    public static final Path DEFAULT_TASK_ROOT = Path.of("/run/containerd/io.containerd.runtime.v2.task");
    /** A bundle config.json is tens of KiB; a MiB leaves room for large env and annotations and bounds the rest. */
    public static final long DEFAULT_MAX_CONFIG_BYTES = 1 << 20;

    static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";
    static final String CONTAINER_NAME = "io.kubernetes.cri.container-name";
    static final String SANDBOX_NAME = "io.kubernetes.cri.sandbox-name";
    static final String SANDBOX_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
    static final String SANDBOX_UID = "io.kubernetes.cri.sandbox-uid";
    static final String IMAGE_NAME = "io.kubernetes.cri.image-name";
    private static final String CRI_PREFIX = "io.kubernetes.cri.";
    private static final int MAX_LABELS = 256;
    /**
     * How long a lookup answers "not yet" while a container's record is read; below the pipeline's default last
     * metadata retry (1 s), so a slow containerd costs the image, never the rest of the metadata.
     */
    static final long ENRICHMENT_WITHHELD_MILLIS = 750;

    private static final Logger LOG = LoggerFactory.getLogger(ContainerdMetadataProvider.class);

    private final Path taskRoot;
    private final long maxConfigBytes;
    private final ObjectMapper json = JsonMapper.builder().build();
    private final LookupCache cache;
    private final ContainerdRecords records;
    private final ThreadPoolExecutor enricher;
    /** Containers whose containerd record is being read, with when it was asked for (clock millis). */
    private final Map<ContainerId, Long> enriching = new ConcurrentHashMap<>();
    private final Clock clock;

    /** Bundles only (no image for plain {@code ctr run} containers). */
    public ContainerdMetadataProvider(Clock clock) {
        this(DEFAULT_TASK_ROOT, DEFAULT_MAX_CONFIG_BYTES, clock, null);
    }

    public ContainerdMetadataProvider(Path taskRoot, long maxConfigBytes, Clock clock) {
        this(taskRoot, maxConfigBytes, clock, null);
    }

    /**
     * @param records containerd's container records for the image of non-CRI containers, or null for bundles only;
     *                when given, the provider owns a background thread: {@link #close()} it
     */
    public ContainerdMetadataProvider(Path taskRoot, long maxConfigBytes, Clock clock, ContainerdRecords records) {
        this.taskRoot = Objects.requireNonNull(taskRoot, "taskRoot");
        if (maxConfigBytes <= 0) {
            throw new IllegalArgumentException("maxConfigBytes must be positive: " + maxConfigBytes);
        }
        this.maxConfigBytes = maxConfigBytes;
        this.cache = new LookupCache(clock, Duration.ofSeconds(5), 4096);
        this.records = records;
        this.clock = clock;
        this.enricher = records == null ? null : new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(256), runnable -> {
                    Thread thread = new Thread(runnable, "drift-containerd-records");
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.DiscardPolicy());
        if (enricher != null) {
            enricher.allowCoreThreadTimeOut(true);
        }
    }

    @Override
    public void close() {
        if (enricher != null) {
            enricher.shutdownNow();
        }
    }

    @Override
    public Optional<WorkloadMetadata> lookup(ContainerId id) {
        Optional<WorkloadMetadata> found = cache.get(id, this::load);
        Long askedAt = enriching.get(id);
        if (found.isPresent() && askedAt != null && clock.millis() - askedAt < ENRICHMENT_WITHHELD_MILLIS) {
            // the image is being asked of containerd right now: "not yet" lets the pipeline park the exec and look
            // again a moment later, instead of reporting the first drift of a new container without its image
            return Optional.empty();
        }
        return found;
    }

    private Optional<WorkloadMetadata> load(ContainerId id) {
        for (Path namespace : namespaces()) {
            // the id pattern admits no '/' and no leading '.', so it stays one component under the namespace
            Path config = namespace.resolve(id.value()).resolve("config.json");
            try {
                Optional<byte[]> content = RuntimeStateFiles.read(config, maxConfigBytes);
                if (content.isPresent()) {
                    WorkloadMetadata metadata = parse(id, json.readTree(content.get()));
                    if (metadata.image() == null && records != null) {
                        enrichLater(namespace.getFileName().toString(), id, metadata);
                    }
                    return Optional.of(metadata);
                }
            } catch (IOException | JacksonException unreadable) {
                LOG.warn("cannot read containerd bundle config {}: {}", config, unreadable.getMessage());
                return Optional.empty();
            }
        }
        LOG.debug("no containerd bundle for container {}", id);
        return Optional.empty();
    }

    private void enrichLater(String namespace, ContainerId id, WorkloadMetadata fromBundle) {
        if (enriching.putIfAbsent(id, clock.millis()) != null) {
            return;
        }
        enricher.execute(() -> {
            try {
                records.read(namespace, id).ifPresent(record -> {
                    Map<String, String> labels = new HashMap<>(fromBundle.podLabels());
                    record.labels().forEach(labels::putIfAbsent);
                    cache.replace(id, new WorkloadMetadata(fromBundle.podName(), fromBundle.namespace(),
                            fromBundle.podUid(), labels, fromBundle.containerName(), record.image(),
                            record.imageDigest()));
                });
            } catch (IOException failed) {
                LOG.debug("containerd record of {}/{} unavailable: {}", namespace, id, failed.getMessage());
            } catch (InterruptedException stopping) {
                Thread.currentThread().interrupt();
            } finally {
                enriching.remove(id);
            }
        });
    }

    /** Kubernetes' namespace first: it is where a CRI container id is looked up most. */
    private List<Path> namespaces() {
        List<Path> namespaces = new ArrayList<>();
        if (!Files.isDirectory(taskRoot, LinkOption.NOFOLLOW_LINKS)) {
            return namespaces;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(taskRoot)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    namespaces.add(entry);
                }
            }
        } catch (IOException unreadable) {
            LOG.warn("cannot list containerd task root {}: {}", taskRoot, unreadable.getMessage());
        }
        namespaces.sort((a, b) -> Boolean.compare(!a.getFileName().toString().equals("k8s.io"),
                !b.getFileName().toString().equals("k8s.io")));
        return namespaces;
    }

    private static WorkloadMetadata parse(ContainerId id, JsonNode spec) {
        Map<String, String> annotations = new HashMap<>();
        JsonNode node = spec.path("annotations");
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> annotation : node.properties()) {
                if (annotation.getValue().isString() && annotations.size() < MAX_LABELS) {
                    annotations.put(annotation.getKey(), annotation.getValue().stringValue());
                }
            }
        }
        return fromAnnotations(id, annotations);
    }

    /**
     * The metadata a bundle's OCI annotations give (as read from its {@code config.json}): a CRI container's pod and
     * container; any other container's annotations as labels, its id as its name.
     */
    public static WorkloadMetadata fromAnnotations(ContainerId id, Map<String, String> annotations) {
        if (annotations.containsKey(SANDBOX_NAME) || annotations.containsKey(CONTAINER_TYPE)) {
            boolean sandbox = "sandbox".equals(annotations.get(CONTAINER_TYPE));
            return new WorkloadMetadata(annotations.get(SANDBOX_NAME), annotations.get(SANDBOX_NAMESPACE),
                    annotations.get(SANDBOX_UID), Map.of(), sandbox ? null : annotations.get(CONTAINER_NAME),
                    annotations.get(IMAGE_NAME), null);
        }
        Map<String, String> labels = new HashMap<>(annotations);
        labels.keySet().removeIf(key -> key.startsWith(CRI_PREFIX));
        return new WorkloadMetadata(null, null, null, labels, id.value(), null, null);
    }
}
