package io.driftagent.systest.scenario;

import io.driftagent.systest.chart.ChartRenderer;
import io.driftagent.systest.chart.RenderedChart;
import io.driftagent.systest.cluster.CloudNode;
import io.driftagent.systest.cluster.MockApiServer;
import io.driftagent.systest.kubelet.DockerRun;
import io.driftagent.systest.kubelet.KubeletVolumes;
import io.driftagent.systest.kubelet.PodContext;
import io.driftagent.systest.kubelet.PodSpecTranslator;
import io.driftagent.systest.kubelet.ServiceAccountAdmission;
import io.driftagent.systest.kubelet.ServiceLinks;
import io.driftagent.systest.kubelet.VolumeAction;
import io.driftagent.systest.pod.AgentContainer;
import io.driftagent.systest.pod.KubeletProber;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The chart's agent pod on this node, end to end: {@code helm template} of the chart, the objects it renders (and
 * the cluster's own: the {@code kubernetes} Service, {@code kube-root-ca.crt}, this node) on the mock API server,
 * the DaemonSet's pod admitted (service-account token volume) and translated to {@code docker run}, kubelet's volume
 * set-up on this machine, the container started and probed with the rendered timings.
 */
public final class ChartPod implements AutoCloseable {

    public static final String RELEASE = "drift-agent";
    public static final String NAMESPACE = "drift-system";
    private static final Logger LOG = LoggerFactory.getLogger(ChartPod.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * How this pod differs from a plain {@code helm install} onto an AKS node.
     *
     * @param valuesFiles        values files ({@code -f}, in order)
     * @param cloud              the node's cloud (its providerID)
     * @param enableServiceLinks overrides the rendered pod spec's {@code enableServiceLinks}
     * @param memoryTmpfsNoexec  the node mounts memory-backed volumes noexec (hardened)
     */
    public record Options(List<Path> valuesFiles, CloudNode cloud, Optional<Boolean> enableServiceLinks,
                          boolean memoryTmpfsNoexec) {

        public Options {
            valuesFiles = List.copyOf(valuesFiles);
        }

        public static Options defaults(String nodeName) {
            return new Options(List.of(), CloudNode.aks(nodeName), Optional.empty(), false);
        }

        public Options withValuesFile(Path file) {
            List<Path> files = new ArrayList<>(valuesFiles);
            files.add(file);
            return new Options(files, cloud, enableServiceLinks, memoryTmpfsNoexec);
        }

        public Options withCloud(CloudNode node) {
            return new Options(valuesFiles, node, enableServiceLinks, memoryTmpfsNoexec);
        }

        public Options withServiceLinks(boolean enabled) {
            return new Options(valuesFiles, cloud, Optional.of(enabled), memoryTmpfsNoexec);
        }

        public Options withMemoryTmpfsNoexec() {
            return new Options(valuesFiles, cloud, enableServiceLinks, true);
        }
    }

    private final String nodeName;
    private final MockApiServer api;
    private final RenderedChart chart;
    private final DockerRun run;
    private final AgentContainer container;
    private final KubeletProber.Readiness readiness;
    private final KubeletVolumes kubelet;
    private final Map<String, Path> configMapVolumes;

    private ChartPod(String nodeName, MockApiServer api, RenderedChart chart, DockerRun run, AgentContainer container,
                     KubeletProber.Readiness readiness, KubeletVolumes kubelet, Map<String, Path> configMapVolumes) {
        this.nodeName = nodeName;
        this.api = api;
        this.chart = chart;
        this.run = run;
        this.container = container;
        this.readiness = readiness;
        this.kubelet = kubelet;
        this.configMapVolumes = configMapVolumes;
    }

    public static String newNodeName() {
        return "systest-node-" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
    }

    /** Renders, creates, translates and starts; returns once the pod is Ready or its probe budget is spent. */
    public static ChartPod start(SystemTestEnvironment env, String nodeName, Options options) throws Exception {
        RenderedChart chart = new ChartRenderer(env.chart()).render(RELEASE, NAMESPACE, options.valuesFiles(), Map.of());
        MockApiServer api = MockApiServer.started();
        try {
            KubernetesClient client = api.client();
            client.nodes().resource(options.cloud().node(nodeName)).create();
            createClusterObjects(client, api);
            createChartObjects(client, chart);

            String podName = RELEASE + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 35), 36);
            String podUid = UUID.randomUUID().toString();
            JsonNode template = chart.podTemplate();
            ObjectNode podSpec = (ObjectNode) ServiceAccountAdmission.admit(template.path("spec"),
                    chart.find("ServiceAccount", template.path("spec").path("serviceAccountName").asString(""))
                            .orElse(JSON.missingNode()));
            podSpec.put("nodeName", nodeName);
            options.enableServiceLinks().ifPresent(enabled -> podSpec.put("enableServiceLinks", enabled));

            Path podDir = Files.createDirectories(env.work().resolve("pods").resolve(podUid));
            PodContext context = new PodContext(podName, NAMESPACE, podUid, nodeName, "127.0.0.1", "127.0.0.1",
                    strings(template.path("metadata").path("labels")),
                    strings(template.path("metadata").path("annotations")), services(client),
                    configMaps(client, NAMESPACE), Map.of(), "eyJhbGciOiJSUzI1NiJ9.c3lzdGVzdA.c2lnbmF0dXJl", podDir);
            String containerName = podSpec.path("containers").get(0).path("name").asString();
            DockerRun run = new PodSpecTranslator(env.nodeRuntime().withMemoryTmpfsNoexec(options.memoryTmpfsNoexec()))
                    .translate(podSpec, containerName, context, env.image());

            KubeletVolumes kubelet = new KubeletVolumes(Clock.systemUTC());
            Map<String, Path> configMapVolumes = new LinkedHashMap<>();
            for (VolumeAction action : run.volumes()) {
                kubelet.apply(action);
                if (action instanceof VolumeAction.AtomicFiles files) {
                    configMapVolumes.put(files.volume(), files.path());
                }
            }
            AgentContainer container = AgentContainer.start("systest-" + podName, run);
            createAgentPod(client, template, podSpec, podName, podUid, container.id());
            KubeletProber.Readiness readiness = KubeletProber.awaitReady(container);
            LOG.info("pod {} ready={} after {} ms (budget {} s): {} {}", podName, readiness.ready(),
                    readiness.elapsed().toMillis(), readiness.budget().toSeconds(), readiness.reason(),
                    readiness.lastBody());
            return new ChartPod(nodeName, api, chart, run, container, readiness, kubelet, configMapVolumes);
        } catch (Exception | Error e) {
            api.close();
            throw e;
        }
    }

    private static void createClusterObjects(KubernetesClient client, MockApiServer api) throws IOException {
        client.services().inNamespace("default").resource(new ServiceBuilder().withNewMetadata()
                .withName("kubernetes").withNamespace("default").endMetadata()
                .withNewSpec().withClusterIP(api.host()).addNewPort().withName("https").withProtocol("TCP")
                .withPort(api.port()).endPort().endSpec().build()).create();
        client.configMaps().inNamespace(NAMESPACE).resource(new ConfigMapBuilder().withNewMetadata()
                .withName(ServiceAccountAdmission.ROOT_CA_CONFIG_MAP).withNamespace(NAMESPACE).endMetadata()
                .addToData("ca.crt", api.caCertificatePem()).build()).create();
    }

    private static void createChartObjects(KubernetesClient client, RenderedChart chart) {
        int nextIp = 10;
        for (JsonNode document : chart.documents()) {
            String kind = document.path("kind").asString();
            if (kind.equals("DaemonSet") || document.path("metadata").path("annotations").has("helm.sh/hook")) {
                continue; // the DaemonSet is this harness's job; hooks (helm test) are not installed
            }
            if (kind.equals("CustomResourceDefinition")) {
                // fabric8's CRUD mock cannot store a CRD (its POST handler fails on the cluster-scoped path and the
                // request is never answered, costing the client minutes of retries): the agent finds no DriftPolicy
                // resources and the policy file applies
                LOG.info("not on the mock API server: {} {} (the agent runs without DriftPolicy resources)", kind,
                        document.path("metadata").path("name").asString());
                continue;
            }
            HasMetadata object;
            try {
                object = client.getKubernetesSerialization().unmarshal(JSON.writeValueAsString(document));
            } catch (RuntimeException unknownKind) {
                LOG.info("not on the mock API server: {} ({})", kind, unknownKind.getMessage());
                continue;
            }
            if (object instanceof Service service && service.getSpec().getClusterIP() == null) {
                service.getSpec().setClusterIP("10.96.0." + nextIp++);
            }
            if (object.getMetadata().getNamespace() == null && !isClusterScoped(kind)) {
                object.getMetadata().setNamespace(chart.namespace());
            }
            try {
                client.resource(object).create();
            } catch (RuntimeException notServed) {
                LOG.info("not on the mock API server: {} {} ({})", kind, object.getMetadata().getName(),
                        notServed.getMessage());
            }
        }
    }

    private static boolean isClusterScoped(String kind) {
        return kind.startsWith("Cluster") || kind.equals("PriorityClass") || kind.equals("Namespace");
    }

    private static void createAgentPod(KubernetesClient client, JsonNode template, JsonNode podSpec, String podName,
                                       String podUid, String containerId) {
        ObjectNode pod = JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode metadata = pod.putObject("metadata").put("name", podName).put("namespace", NAMESPACE)
                .put("uid", podUid);
        metadata.set("labels", template.path("metadata").path("labels"));
        pod.set("spec", podSpec);
        ObjectNode status = pod.putObject("status").put("phase", "Running").put("hostIP", "127.0.0.1")
                .put("podIP", "127.0.0.1");
        status.putArray("containerStatuses").addObject().put("name", podSpec.path("containers").get(0).path("name")
                .asString()).put("containerID", "docker://" + containerId).put("ready", false).put("restartCount", 0)
                .put("image", podSpec.path("containers").get(0).path("image").asString());
        client.pods().inNamespace(NAMESPACE).resource(client.getKubernetesSerialization()
                .unmarshal(JSON.writeValueAsString(pod), Pod.class)).create();
    }

    private static List<ServiceLinks.Service> services(KubernetesClient client) {
        List<ServiceLinks.Service> services = new ArrayList<>();
        for (Service service : client.services().inAnyNamespace().list().getItems()) {
            services.add(new ServiceLinks.Service(service.getMetadata().getName(),
                    service.getMetadata().getNamespace(), service.getSpec().getClusterIP(),
                    service.getSpec().getPorts().stream().map(p -> new ServiceLinks.ServicePort(p.getName(),
                            p.getPort(), p.getProtocol())).toList()));
        }
        return services;
    }

    private static Map<String, Map<String, String>> configMaps(KubernetesClient client, String namespace) {
        Map<String, Map<String, String>> data = new LinkedHashMap<>();
        for (ConfigMap configMap : client.configMaps().inNamespace(namespace).list().getItems()) {
            data.put(configMap.getMetadata().getName(),
                    configMap.getData() == null ? Map.of() : Map.copyOf(configMap.getData()));
        }
        return data;
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> map = new LinkedHashMap<>();
        object.properties().forEach(e -> map.put(e.getKey(), e.getValue().asString()));
        return map;
    }

    // --- what the tests look at ---

    public String nodeName() {
        return nodeName;
    }

    public KubernetesClient api() {
        return api.client();
    }

    public RenderedChart chart() {
        return chart;
    }

    public DockerRun run() {
        return run;
    }

    public AgentContainer container() {
        return container;
    }

    public KubeletProber.Readiness readiness() {
        return readiness;
    }

    /** GET on the container's named port (e.g. {@code http}). */
    public HttpResponse<String> get(String portName, String path) throws IOException, InterruptedException {
        return container.get(container.port(portName), path, Duration.ofSeconds(5));
    }

    /** Every alert so far: the JSON lines on the container's stdout that are alert objects. */
    public List<JsonNode> alerts() {
        List<JsonNode> alerts = new ArrayList<>();
        for (String line : container.stdout().split("\n")) {
            if (line.startsWith("{")) {
                JsonNode node = JSON.readTree(line);
                if (node.has("alertType")) {
                    alerts.add(node);
                }
            }
        }
        return alerts;
    }

    public Optional<JsonNode> awaitAlert(Predicate<JsonNode> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int round = 0;
        do {
            Optional<JsonNode> found = alerts().stream().filter(wanted).findFirst();
            if (found.isPresent()) {
                return found;
            }
            if (++round % 10 == 0 && !container.running()) {
                return Optional.empty(); // an exited agent alerts no more
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    /**
     * {@code kubectl apply} of a changed ConfigMap, then what kubelet's volume manager does on its next sync: the
     * new content written through the atomic writer of every volume of that ConfigMap.
     */
    public void updateConfigMap(String name, Map<String, String> data) throws IOException {
        api.client().configMaps().inNamespace(NAMESPACE).withName(name).edit(cm -> new ConfigMapBuilder(cm)
                .withData(data).build());
        ConfigMap stored = api.client().configMaps().inNamespace(NAMESPACE).withName(name).get();
        boolean mounted = false;
        for (JsonNode volume : chart.podTemplate().path("spec").path("volumes")) {
            if (name.equals(volume.path("configMap").path("name").asString(""))) {
                Path dir = configMapVolumes.get(volume.path("name").asString());
                Map<String, byte[]> files = new LinkedHashMap<>();
                stored.getData().forEach((k, v) -> files.put(k, v.getBytes(StandardCharsets.UTF_8)));
                kubelet.update(dir, files, volume.path("configMap").path("defaultMode").asInt(0644));
                mounted = true;
            }
        }
        if (!mounted) {
            throw new AssertionError("no volume of the pod mounts ConfigMap " + name);
        }
    }

    /** The rendered policy ConfigMap: the one the pod mounts at the policy directory. */
    public String policyConfigMapName() {
        for (JsonNode volume : chart.podTemplate().path("spec").path("volumes")) {
            String configMap = volume.path("configMap").path("name").asString("");
            if (!configMap.isEmpty() && configMap.contains("policy")) {
                return configMap;
            }
        }
        throw new AssertionError("the pod mounts no policy ConfigMap: " + chart.podTemplate().path("spec")
                .path("volumes"));
    }

    @Override
    public void close() {
        try {
            container.close();
        } finally {
            api.close();
        }
    }
}
