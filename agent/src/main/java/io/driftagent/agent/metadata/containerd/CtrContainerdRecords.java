package io.driftagent.agent.metadata.containerd;

import io.driftagent.agent.attribution.ContainerId;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * containerd's container records through its own CLI: {@code ctr -n NS containers info ID} (image, labels) and
 * {@code ctr -n NS images ls name==IMAGE} (the image's manifest digest, cached per image). A process start per call, so
 * {@link ContainerdMetadataProvider} calls it off the hot path, once per container.
 */
public final class CtrContainerdRecords implements ContainerdRecords {
    private static final int MAX_OUTPUT_BYTES = 4 << 20;
    private static final int MAX_LABELS = 256;
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private final String ctr;
    private final String address;
    private final Duration timeout;
    private final ObjectMapper json = JsonMapper.builder().build();
    private final Map<String, Optional<String>> digestByImage = new ConcurrentHashMap<>();

    /** {@code ctr} from the PATH, containerd's default socket, 5 s per call. */
    public CtrContainerdRecords() {
        this("ctr", "/run/containerd/containerd.sock", Duration.ofSeconds(5));
    }

    public CtrContainerdRecords(String ctr, String address, Duration timeout) {
        this.ctr = Objects.requireNonNull(ctr, "ctr");
        this.address = Objects.requireNonNull(address, "address");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    @Override
    public Optional<ContainerdRecord> read(String namespace, ContainerId id) throws IOException, InterruptedException {
        Optional<String> info = run(List.of("-n", namespace, "containers", "info", id.value()));
        if (info.isEmpty()) {
            return Optional.empty();
        }
        JsonNode container;
        try {
            container = json.readTree(info.get());
        } catch (JacksonException malformed) {
            throw new IOException("unexpected ctr containers info output: " + malformed.getOriginalMessage());
        }
        Map<String, String> labels = new HashMap<>();
        container.path("Labels").properties().forEach(label -> {
            if (label.getValue().isString() && labels.size() < MAX_LABELS) {
                labels.put(label.getKey(), label.getValue().stringValue());
            }
        });
        String image = container.path("Image").isString() && !container.path("Image").stringValue().isEmpty()
                ? container.path("Image").stringValue() : null;
        String digest = image == null ? null : digestOf(namespace, image);
        return Optional.of(new ContainerdRecord(image, digest, labels));
    }

    private String digestOf(String namespace, String image) throws IOException, InterruptedException {
        String key = namespace + "/" + image;
        Optional<String> cached = digestByImage.get(key);
        if (cached != null) {
            return cached.orElse(null);
        }
        Optional<String> digest = run(List.of("-n", namespace, "images", "ls", "name==" + image))
                .flatMap(table -> table.lines().skip(1)
                        .map(line -> line.trim().split("\\s+"))
                        .filter(columns -> columns.length >= 3 && columns[0].equals(image)
                                && DIGEST.matcher(columns[2]).matches())
                        .map(columns -> columns[2]).findFirst());
        digestByImage.put(key, digest);
        return digest.orElse(null);
    }

    /** stdout of a successful ctr call; empty when ctr says no (unknown container); bounded and time-limited. */
    private Optional<String> run(List<String> arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ctr, "--address", address));
        command.addAll(arguments);
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        // a hung ctr that keeps stdout open would block the read below: kill it at the deadline
        CompletableFuture<Void> deadline = CompletableFuture.runAsync(process::destroyForcibly,
                CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS));
        try (InputStream out = process.getInputStream()) {
            byte[] output = out.readNBytes(MAX_OUTPUT_BYTES + 1);
            if (output.length > MAX_OUTPUT_BYTES) {
                throw new IOException("ctr printed more than " + MAX_OUTPUT_BYTES + " bytes: " + command);
            }
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException("ctr did not finish within " + timeout + ": " + command);
            }
            return process.exitValue() == 0 ? Optional.of(new String(output, StandardCharsets.UTF_8))
                    : Optional.empty();
        } finally {
            deadline.cancel(false);
            process.destroyForcibly();
        }
    }
}
