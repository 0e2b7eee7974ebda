package io.driftagent.systest.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** The pod spec -> docker run translation, on a fixed pod spec shaped like the chart's DaemonSet. */
class PodSpecTranslatorTest {

    private static final YAMLMapper YAML = YAMLMapper.builder().build();
    private static final String POD_SPEC = """
            serviceAccountName: drift-agent
            hostPID: true
            containers:
              - name: agent
                image: ghcr.io/drift-agent/drift-agent:0.1.0
                args: ["run", "--node=$(NODE_NAME)", "$$(literal)"]
                env:
                  - name: NODE_NAME
                    valueFrom:
                      fieldRef:
                        fieldPath: spec.nodeName
                  - name: POD_NAMESPACE
                    valueFrom:
                      fieldRef:
                        fieldPath: metadata.namespace
                  - name: MEMORY_LIMIT_MI
                    valueFrom:
                      resourceFieldRef:
                        resource: limits.memory
                        divisor: 1Mi
                  - name: GREETING
                    value: "node $(NODE_NAME) of $(UNDEFINED)"
                ports:
                  - name: http
                    containerPort: 9742
                startupProbe:
                  httpGet: {path: /readyz, port: http}
                  periodSeconds: 2
                  failureThreshold: 30
                readinessProbe:
                  httpGet: {path: /readyz, port: 9742}
                  initialDelaySeconds: 5
                livenessProbe:
                  httpGet: {path: /healthz, port: http}
                resources:
                  requests: {cpu: 50m, memory: 96Mi}
                  limits: {memory: 160Mi}
                securityContext:
                  privileged: false
                  allowPrivilegeEscalation: false
                  capabilities:
                    drop: ["ALL"]
                    add: [SYS_ADMIN, BPF, PERFMON, SYS_PTRACE, DAC_READ_SEARCH, SYS_RESOURCE]
                  readOnlyRootFilesystem: true
                  runAsUser: 0
                  seccompProfile: {type: Unconfined}
                volumeMounts:
                  - {name: policy, mountPath: /etc/drift-agent/policy, readOnly: true}
                  - {name: tmp, mountPath: /tmp}
                  - {name: cgroup, mountPath: /sys/fs/cgroup}
                  - {name: containerd-state, mountPath: /run/containerd, readOnly: true, mountPropagation: HostToContainer}
            volumes:
              - name: policy
                configMap: {name: drift-agent-policy}
              - name: tmp
                emptyDir: {medium: Memory, sizeLimit: 16Mi}
              - name: cgroup
                hostPath: {path: /sys/fs/cgroup, type: Directory}
              - name: containerd-state
                hostPath: {path: /run/containerd, type: DirectoryOrCreate}
            """;
    private static final Set<String> BOUNDING_WITHOUT_SYS_RESOURCE = Set.copyOf(NodeRuntime.CAPABILITIES.stream()
            .filter(c -> !c.equals("SYS_RESOURCE")).toList());

    private final PodSpecTranslator docker2010 = new PodSpecTranslator(
            new NodeRuntime(BOUNDING_WITHOUT_SYS_RESOURCE, false, false));

    private static ObjectNode spec() {
        return (ObjectNode) YAML.readTree(POD_SPEC);
    }

    private static PodContext context() {
        return new PodContext("drift-agent-x1", "drift-system", "uid-1", "node-a", "10.0.0.4", "10.244.0.7",
                Map.of("app", "drift-agent"), Map.of(), List.of(
                new ServiceLinks.Service("kubernetes", "default", "127.0.0.1",
                        List.of(new ServiceLinks.ServicePort("https", 35443, "TCP"))),
                new ServiceLinks.Service("drift-agent", "drift-system", "10.96.0.10",
                        List.of(new ServiceLinks.ServicePort("http", 9742, "TCP"))),
                new ServiceLinks.Service("other", "elsewhere", "10.96.0.11",
                        List.of(new ServiceLinks.ServicePort("web", 80, "TCP")))),
                Map.of("drift-agent-policy", Map.of("policy.yaml", "rules: []\n")), Map.of(), "token",
                Path.of("/var/lib/systest/pods/uid-1"));
    }

    @Test
    void theHostPidNamespaceAndAPrivateCgroupNamespaceAreWhatAContainerdPodOnCgroupV2Gets() {
        DockerRun run = docker2010.translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.options()).contains("--pid=host", "--cgroupns=private", "--network=host");
        assertThat(run.deviations()).anyMatch(d -> d.contains("--bridge=none"));
    }

    @Test
    void theSecurityContextBecomesCapabilitiesNoNewPrivilegesUnconfinedSeccompAndAReadOnlyRoot() {
        DockerRun run = docker2010.translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.options()).contains("--cap-drop=ALL", "--cap-add=SYS_ADMIN", "--cap-add=SYS_PTRACE",
                "--cap-add=DAC_READ_SEARCH", "--security-opt=no-new-privileges", "--security-opt=seccomp=unconfined",
                "--read-only", "--user=0");
        assertThat(run.options()).doesNotContain("--privileged", "--cap-add=BPF", "--cap-add=PERFMON",
                "--cap-add=SYS_RESOURCE");
        assertThat(run.options().stream().filter("--cap-add=SYS_ADMIN"::equals)).hasSize(1);
        assertThat(run.deviations()).anyMatch(d -> d.startsWith("CAP_BPF granted as CAP_SYS_ADMIN"))
                .anyMatch(d -> d.startsWith("CAP_PERFMON granted as CAP_SYS_ADMIN"))
                .anyMatch(d -> d.startsWith("CAP_SYS_RESOURCE dropped"));
    }

    @Test
    void aDockerThatKnowsBpfGetsItAsIs() {
        PodSpecTranslator newer = new PodSpecTranslator(new NodeRuntime(Set.copyOf(NodeRuntime.CAPABILITIES), true,
                false));

        DockerRun run = newer.translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.options()).contains("--cap-add=BPF", "--cap-add=PERFMON", "--cap-add=SYS_RESOURCE");
    }

    @Test
    void aPrivilegedContainerKeepsTheHostCgroupNamespace() {
        ObjectNode spec = spec();
        ((ObjectNode) spec.path("containers").get(0).path("securityContext")).put("privileged", true);

        DockerRun run = docker2010.translate(spec, "agent", context(), "drift-agent:test");

        assertThat(run.options()).contains("--privileged", "--cgroupns=host").doesNotContain("--cap-drop=ALL");
    }

    @Test
    void aMemoryEmptyDirIsAnExecutableTmpfsOfItsSizeLimitUnlikeDockersNoexecDefault() {
        DockerRun run = docker2010.translate(spec(), "agent", context(), "drift-agent:test");
        DockerRun hardened = new PodSpecTranslator(new NodeRuntime(BOUNDING_WITHOUT_SYS_RESOURCE, false, true))
                .translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.options()).contains("--tmpfs=/tmp:rw,exec,suid,dev,size=16777216");
        assertThat(hardened.options()).contains("--tmpfs=/tmp:rw,noexec,nosuid,nodev,size=16777216");
    }

    @Test
    void hostPathsAreBindMountsWithTheirTypeCheckAndPropagationAndConfigMapsAreReadOnlyAtomicWriterDirectories() {
        DockerRun run = docker2010.translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.options()).contains(
                "--mount=type=bind,source=/sys/fs/cgroup,target=/sys/fs/cgroup,bind-propagation=rprivate",
                "--mount=type=bind,source=/run/containerd,target=/run/containerd,readonly,bind-propagation=rslave",
                "--mount=type=bind,source=/var/lib/systest/pods/uid-1/volumes/kubernetes.io~configmap/policy,"
                        + "target=/etc/drift-agent/policy,readonly,bind-propagation=rprivate");
        assertThat(run.volumes()).contains(
                new VolumeAction.HostPath("cgroup", Path.of("/sys/fs/cgroup"), "Directory"),
                new VolumeAction.HostPath("containerd-state", Path.of("/run/containerd"), "DirectoryOrCreate"));
        assertThat(run.volumes()).filteredOn(VolumeAction.AtomicFiles.class::isInstance).singleElement()
                .satisfies(v -> assertThat(((VolumeAction.AtomicFiles) v).files()).containsOnlyKeys("policy.yaml"));
    }

    @Test
    void theEnvHasTheDownwardApiTheResourceFieldsKubeletsExpansionAndEveryServiceLinkOfTheNamespace() {
        DockerRun run = docker2010.translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.env()).containsEntry("NODE_NAME", "node-a").containsEntry("POD_NAMESPACE", "drift-system")
                .containsEntry("MEMORY_LIMIT_MI", "160")
                .containsEntry("GREETING", "node node-a of $(UNDEFINED)")
                .containsEntry("KUBERNETES_SERVICE_HOST", "127.0.0.1")
                .containsEntry("KUBERNETES_SERVICE_PORT", "35443")
                .containsEntry("DRIFT_AGENT_SERVICE_HOST", "10.96.0.10")
                .containsEntry("DRIFT_AGENT_PORT", "tcp://10.96.0.10:9742")
                .containsEntry("DRIFT_AGENT_PORT_9742_TCP_ADDR", "10.96.0.10")
                .doesNotContainKey("OTHER_SERVICE_HOST");
        assertThat(run.arguments()).containsExactly("run", "--node=node-a", "$(literal)");
        assertThat(run.options()).contains("--memory=167772160", "--cpu-shares=51");
    }

    @Test
    void withServiceLinksDisabledOnlyTheMasterServiceIsInjected() {
        ObjectNode spec = spec();
        spec.put("enableServiceLinks", false);

        DockerRun run = docker2010.translate(spec, "agent", context(), "drift-agent:test");

        assertThat(run.env()).containsEntry("KUBERNETES_SERVICE_HOST", "127.0.0.1")
                .doesNotContainKeys("DRIFT_AGENT_SERVICE_HOST", "DRIFT_AGENT_PORT");
    }

    @Test
    void probesGetTheirNamedPortsAndKubeletsDefaultsAndTheStartupBudgetIsInitialDelayPlusThresholdTimesPeriod() {
        DockerRun run = docker2010.translate(spec(), "agent", context(), "drift-agent:test");

        assertThat(run.probe("startup")).get().satisfies(p -> {
            assertThat(p.port()).isEqualTo(9742);
            assertThat(p.budget()).hasSeconds(60);
            assertThat(p.timeoutSeconds()).isEqualTo(1);
        });
        assertThat(run.probe("readiness")).get().satisfies(p -> assertThat(p.budget()).hasSeconds(35));
        assertThat(run.probe("liveness")).get().satisfies(p -> assertThat(p.url("127.0.0.1"))
                .isEqualTo("http://127.0.0.1:9742/healthz"));
    }

    @Test
    void aMissingConfigMapKeepsThePodFromStarting() {
        PodContext withoutPolicy = new PodContext("p", "drift-system", "u", "n", "h", "p", Map.of(), Map.of(),
                List.of(), Map.of(), Map.of(), "t", Path.of("/x"));

        assertThatThrownBy(() -> docker2010.translate(spec(), "agent", withoutPolicy, "drift-agent:test"))
                .isInstanceOf(UnsupportedPodSpec.class).hasMessageContaining("ConfigMap drift-agent-policy");
    }

    @Test
    void theServiceAccountAdmissionAddsTheProjectedTokenVolumeUnlessThePodOptsOut() {
        JsonNode admitted = ServiceAccountAdmission.admit(spec(), YAML.missingNode());
        ObjectNode optedOut = spec();
        optedOut.put("automountServiceAccountToken", false);

        DockerRun run = docker2010.translate(admitted, "agent", new PodContext("drift-agent-x1", "drift-system",
                "uid-1", "node-a", "h", "p", Map.of(), Map.of(), List.of(), Map.of("drift-agent-policy",
                Map.of("policy.yaml", "x"), "kube-root-ca.crt", Map.of("ca.crt", "PEM")), Map.of(), "tok",
                Path.of("/pods/uid-1")), "drift-agent:test");

        assertThat(run.options()).anyMatch(o -> o.endsWith(
                "target=/var/run/secrets/kubernetes.io/serviceaccount,readonly,bind-propagation=rprivate"));
        assertThat(run.volumes()).filteredOn(v -> v instanceof VolumeAction.AtomicFiles files
                && files.files().containsKey("token")).singleElement().satisfies(v -> assertThat(
                ((VolumeAction.AtomicFiles) v).files()).containsOnlyKeys("token", "ca.crt", "namespace"));
        assertThat(ServiceAccountAdmission.admit(optedOut, YAML.missingNode()).path("volumes")).hasSize(4);
    }
}
