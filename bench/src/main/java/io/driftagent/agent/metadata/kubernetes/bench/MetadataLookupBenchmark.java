package io.driftagent.agent.metadata.kubernetes.bench;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.cli.Main;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.metadata.containerd.ContainerdMetadataProvider;
import io.driftagent.agent.metadata.kubernetes.CrudApiServer;
import io.driftagent.agent.metadata.kubernetes.PodMetadataInformer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-exec cost of workload metadata: an informer index lookup (hit and miss) on a node at Kubernetes'
 * default pod limit (110 pods, 3 containers each), and a cached containerd bundle lookup (standalone mode).
 * Run: see docs/benchmarks.md, section "Workload metadata".
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MetadataLookupBenchmark {
    private static final int PODS = 110;

    private CrudApiServer api;
    private KubernetesClient client;
    private PodMetadataInformer informer;
    private ContainerdMetadataProvider containerd;
    private Path taskRoot;
    private ContainerId[] known;
    private final ContainerId unknown = new ContainerId("f".repeat(64));
    private int next;

    static ContainerId id(int pod, int container) {
        return new ContainerId(String.format("%060x%04x", pod, container));
    }

    @Setup(Level.Trial)
    public void start() throws Exception {
        api = CrudApiServer.started();
        KubernetesMockServer server = api.server();
        client = server.createClient();
        known = new ContainerId[PODS * 3];
        for (int p = 0; p < PODS; p++) {
            PodBuilder pod = new PodBuilder().withNewMetadata().withName("pod-" + p).withNamespace("ns-" + (p % 10))
                    .withLabels(Map.of("app", "app-" + p, "tier", "web")).endMetadata()
                    .withNewSpec().withNodeName("node-a").endSpec().withNewStatus().endStatus();
            for (int c = 0; c < 3; c++) {
                known[p * 3 + c] = id(p, c);
                pod.editStatus().addNewContainerStatus().withName("c" + c)
                        .withContainerID("containerd://" + id(p, c).value()).withImage("registry/app:" + c)
                        .withImageID("registry/app@sha256:" + HexFormat.of().toHexDigits(p).repeat(8))
                        .endContainerStatus().endStatus();
            }
            Pod built = pod.build();
            client.pods().inNamespace(built.getMetadata().getNamespace()).resource(built).create();
        }
        informer = new PodMetadataInformer(client, "node-a", Duration.ofMinutes(5), Clock.systemUTC());
        informer.start();
        if (!informer.awaitSynced(Duration.ofSeconds(60))) {
            throw new IllegalStateException("informer did not sync");
        }
        while (informer.indexedContainers() < PODS * 3) {
            Thread.sleep(10);
        }

        taskRoot = Files.createTempDirectory("drift-k8s-bench");
        for (ContainerId id : known) {
            Path bundle = Files.createDirectories(taskRoot.resolve("k8s.io").resolve(id.value()));
            Files.writeString(bundle.resolve("config.json"), "{\"annotations\":{"
                    + "\"io.kubernetes.cri.container-type\":\"container\","
                    + "\"io.kubernetes.cri.container-name\":\"c\","
                    + "\"io.kubernetes.cri.sandbox-name\":\"pod\","
                    + "\"io.kubernetes.cri.sandbox-namespace\":\"ns\","
                    + "\"io.kubernetes.cri.image-name\":\"registry/app:1\"}}");
        }
        containerd = new ContainerdMetadataProvider(taskRoot, ContainerdMetadataProvider.DEFAULT_MAX_CONFIG_BYTES,
                Clock.systemUTC());
        for (ContainerId id : known) {
            containerd.lookup(id);
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        informer.close();
        client.close();
        api.server().destroy();
        try (Stream<Path> files = Files.walk(taskRoot)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private ContainerId nextKnown() {
        next = (next + 7) % known.length;
        return known[next];
    }

    @Benchmark
    public Optional<WorkloadMetadata> informerLookupHit() {
        return informer.lookup(nextKnown());
    }

    @Benchmark
    public Optional<WorkloadMetadata> informerLookupMiss() {
        return informer.lookup(unknown);
    }

    @Benchmark
    public Optional<WorkloadMetadata> containerdCachedLookupHit() {
        return containerd.lookup(nextKnown());
    }
}
