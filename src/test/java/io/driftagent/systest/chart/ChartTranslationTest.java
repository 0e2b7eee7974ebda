package io.driftagent.systest.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.systest.kubelet.DockerRun;
import io.driftagent.systest.kubelet.NodeRuntime;
import io.driftagent.systest.kubelet.PodContext;
import io.driftagent.systest.kubelet.PodSpecTranslator;
import io.driftagent.systest.kubelet.ServiceAccountAdmission;
import io.driftagent.systest.kubelet.ServiceLinks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every way the system tests render the chart (default values, each per-platform values file) gives a pod spec the
 * harness can run faithfully: nothing in it is unsupported, and what the pod spec asks for is in the docker run.
 */
class ChartTranslationTest {

    private static final Path ROOT = Path.of(System.getProperty("drift.repository.root", "../..")).toAbsolutePath()
            .normalize();
    private static final java.util.Set<String> BOUNDING = java.util.Set.of("SYS_ADMIN", "SYS_PTRACE",
            "DAC_READ_SEARCH", "BPF", "PERFMON", "SYS_RESOURCE", "SYSLOG");

    @TestFactory
    Stream<DynamicTest> eachRenderingOfTheChartTranslatesToADockerRunOfItsPodSpec() throws Exception {
        ChartRenderer renderer = new ChartRenderer(ROOT.resolve("deploy/helm/drift-agent"));
        List<List<Path>> renderings = new ArrayList<>();
        renderings.add(List.of());
        renderer.cloudValuesFiles().forEach(f -> renderings.add(List.of(f)));
        return renderings.stream().map(files -> DynamicTest.dynamicTest(files.isEmpty() ? "default values"
                : files.get(0).getFileName().toString(), () -> {
            RenderedChart chart = renderer.render("drift-agent", "drift-system", files, Map.of());
            JsonNode spec = ServiceAccountAdmission.admit(chart.podTemplate().path("spec"),
                    JsonMapper.builder().build().missingNode());
            Map<String, Map<String, String>> configMaps = new HashMap<>(chart.configMapData());
            configMaps.put(ServiceAccountAdmission.ROOT_CA_CONFIG_MAP, Map.of("ca.crt", "PEM"));
            PodContext context = new PodContext("drift-agent-x", "drift-system", "uid", "node-a", "127.0.0.1",
                    "127.0.0.1", Map.of(), Map.of(), List.of(new ServiceLinks.Service("kubernetes", "default",
                    "127.0.0.1", List.of(new ServiceLinks.ServicePort("https", 6443, "TCP")))), configMaps,
                    chart.secretData(), "token", Path.of("/pods/uid"));
            JsonNode container = spec.path("containers").get(0);

            DockerRun run = new PodSpecTranslator(new NodeRuntime(BOUNDING, false, false))
                    .translate(spec, container.path("name").asString(), context, "drift-agent:test");

            assertThat(run.options().contains("--pid=host")).isEqualTo(spec.path("hostPID").asBoolean(false));
            assertThat(run.options().contains("--read-only")).isEqualTo(container.path("securityContext")
                    .path("readOnlyRootFilesystem").asBoolean(false));
            assertThat(run.probe("readiness")).as("a readiness probe").isPresent();
            assertThat(run.env()).containsKey("KUBERNETES_SERVICE_HOST");
        }));
    }
}
