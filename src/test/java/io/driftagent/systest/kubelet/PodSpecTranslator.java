package io.driftagent.systest.kubelet;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Translates one container of a pod spec into the {@code docker run} that runs it the way kubelet + containerd would
 * on a cgroup v2 node: host PID namespace, the security context (capabilities, seccomp, no-new-privileges, read-only
 * root, privileged), a private cgroup namespace for non-privileged containers, each volume with kubelet's semantics,
 * the env kubelet sets (service links, downward API, {@code $(VAR)} expansion), resources, probes and ports. Every
 * place where Docker on this machine cannot do what kubelet does is listed in {@link DockerRun#deviations()}.
 *
 * <p>Pure: it reads the spec and the context, touches nothing; {@link KubeletVolumes} performs the volume actions.
 */
public final class PodSpecTranslator {

    private static final Pattern VAR_REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)|\\$\\$");
    private static final Set<String> DOCKER_2010_UNKNOWN = Set.of("BPF", "PERFMON", "CHECKPOINT_RESTORE");

    private final NodeRuntime node;

    public PodSpecTranslator(NodeRuntime node) {
        this.node = node;
    }

    public DockerRun translate(JsonNode podSpec, String containerName, PodContext pod, String image) {
        JsonNode container = container(podSpec, containerName);
        List<String> options = new ArrayList<>();
        List<String> deviations = new ArrayList<>();
        if (podSpec.path("initContainers").size() > 0) {
            throw new UnsupportedPodSpec("init containers are not run by this harness: "
                    + podSpec.path("initContainers"));
        }
        if (podSpec.path("containers").size() > 1) {
            deviations.add("only container '" + containerName + "' of " + podSpec.path("containers").size()
                    + " is run");
        }
        String specImage = container.path("image").asString("");
        if (!specImage.equals(image)) {
            deviations.add("image " + specImage + " replaced by the image under test " + image);
        }

        // namespaces
        options.add("--network=host");
        deviations.add(podSpec.path("hostNetwork").asBoolean(false) ? "hostNetwork: host network"
                : "pod network replaced by the host's: dockerd here runs with --bridge=none, and the mock API server "
                + "listens on 127.0.0.1; the container ports are reached on 127.0.0.1");
        if (podSpec.path("hostPID").asBoolean(false)) {
            options.add("--pid=host");
        }
        if (podSpec.path("hostIPC").asBoolean(false)) {
            options.add("--ipc=host");
        }

        // security context (container over pod)
        JsonNode podSecurity = podSpec.path("securityContext");
        JsonNode security = container.path("securityContext");
        boolean privileged = security.path("privileged").asBoolean(false);
        // containerd on cgroup v2 gives every non-privileged container a cgroup namespace of its own
        options.add(privileged ? "--cgroupns=host" : "--cgroupns=private");
        if (privileged) {
            options.add("--privileged");
        } else {
            capabilities(security.path("capabilities"), options, deviations);
        }
        if (security.has("allowPrivilegeEscalation") && !security.path("allowPrivilegeEscalation").asBoolean()) {
            options.add("--security-opt=no-new-privileges");
        }
        seccomp(first(security.path("seccompProfile"), podSecurity.path("seccompProfile")), options);
        appArmor(first(security.path("appArmorProfile"), podSecurity.path("appArmorProfile")),
                pod.annotations().get("container.apparmor.security.beta.kubernetes.io/" + containerName), options);
        if (first(security.path("seLinuxOptions"), podSecurity.path("seLinuxOptions")).size() > 0) {
            deviations.add("seLinuxOptions not applied: SELinux is not enabled on this machine");
        }
        if (security.path("readOnlyRootFilesystem").asBoolean(false)) {
            options.add("--read-only");
        }
        JsonNode runAsUser = first(security.path("runAsUser"), podSecurity.path("runAsUser"));
        JsonNode runAsGroup = first(security.path("runAsGroup"), podSecurity.path("runAsGroup"));
        if (!runAsUser.isMissingNode()) {
            options.add("--user=" + runAsUser.asLong() + (runAsGroup.isMissingNode() ? "" : ":" + runAsGroup.asLong()));
        }

        // resources: the limits kubelet writes into the container's cgroup
        JsonNode resources = container.path("resources");
        if (resources.path("limits").has("memory")) {
            options.add("--memory=" + Quantity.parse(resources.path("limits").path("memory").asString()).units());
        }
        if (resources.path("limits").has("cpu")) {
            options.add("--cpus=" + Quantity.parse(resources.path("limits").path("cpu").asString()).value()
                    .stripTrailingZeros().toPlainString());
        }
        if (resources.path("requests").has("cpu")) {
            long millis = Quantity.parse(resources.path("requests").path("cpu").asString()).millis();
            options.add("--cpu-shares=" + Math.max(2, millis * 1024 / 1000));
        }

        // ports and probes
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (JsonNode port : container.path("ports")) {
            ports.put(port.path("name").asString("port-" + port.path("containerPort").asInt()),
                    port.path("containerPort").asInt());
        }
        Map<String, Probe> probes = new LinkedHashMap<>();
        for (String kind : List.of("startup", "readiness", "liveness")) {
            JsonNode probe = container.path(kind + "Probe");
            if (!probe.isMissingNode() && !probe.isNull()) {
                probes.put(kind, probe(kind, probe, ports));
            }
        }

        // volumes
        List<VolumeAction> actions = new ArrayList<>();
        Map<String, VolumeSource> volumes = volumes(podSpec, pod, actions, deviations);
        for (JsonNode mount : container.path("volumeMounts")) {
            String name = mount.path("name").asString();
            VolumeSource source = volumes.get(name);
            if (source == null) {
                throw new UnsupportedPodSpec("volumeMount " + name + " has no volume");
            }
            options.add(source.mount(mount));
        }
        String terminationPath = container.path("terminationMessagePath").asString("/dev/termination-log");
        Path terminationLog = pod.podDirectory().resolve("containers").resolve(containerName).resolve("termination-log");
        actions.add(new VolumeAction.TerminationLog(terminationLog));
        options.add("--mount=type=bind,source=" + terminationLog + ",target=" + terminationPath);

        // env: service links and the master service first, the container's own env over them
        Map<String, String> env = env(podSpec, container, pod);
        env.forEach((k, v) -> options.add("--env=" + k + "=" + v));

        if (!container.path("workingDir").asString("").isEmpty()) {
            options.add("--workdir=" + container.path("workingDir").asString());
        }
        List<String> arguments = new ArrayList<>();
        List<String> command = texts(container.path("command"));
        if (!command.isEmpty()) {
            options.add("--entrypoint=" + expand(command.get(0), env));
            command.subList(1, command.size()).forEach(c -> arguments.add(expand(c, env)));
        }
        texts(container.path("args")).forEach(a -> arguments.add(expand(a, env)));
        options.add("--label=io.kubernetes.pod.name=" + pod.podName());
        options.add("--label=io.kubernetes.pod.namespace=" + pod.namespace());
        options.add("--label=io.kubernetes.pod.uid=" + pod.podUid());
        options.add("--label=io.kubernetes.container.name=" + containerName);
        return new DockerRun(options, image, arguments, actions, env, ports, probes, deviations);
    }

    // --- security ---

    private void capabilities(JsonNode capabilities, List<String> options, List<String> deviations) {
        for (JsonNode drop : capabilities.path("drop")) {
            options.add("--cap-drop=" + capabilityName(drop.asString()));
        }
        Set<String> added = new LinkedHashSet<>();
        for (JsonNode add : capabilities.path("add")) {
            String name = capabilityName(add.asString());
            if (!NodeRuntime.CAPABILITIES.contains(name)) {
                throw new UnsupportedPodSpec("unknown capability " + add.asString());
            }
            if (!node.boundingSet().contains(name)) {
                deviations.add("CAP_" + name + " dropped: not in this machine's capability bounding set, no runtime "
                        + "here can grant it");
                continue;
            }
            if (!node.dockerKnowsBpfPerfmon() && DOCKER_2010_UNKNOWN.contains(name)) {
                deviations.add("CAP_" + name + " granted as CAP_SYS_ADMIN, which covers it: this Docker does not "
                        + "know CAP_" + name);
                name = "SYS_ADMIN";
            }
            added.add(name);
        }
        added.forEach(name -> options.add("--cap-add=" + name));
    }

    private static String capabilityName(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return upper.startsWith("CAP_") ? upper.substring(4) : upper;
    }

    private static void seccomp(JsonNode profile, List<String> options) {
        String type = profile.path("type").asString("Unconfined");
        switch (type) {
            // kubelet's default without --seccomp-default is Unconfined, Docker's is its default profile
            case "Unconfined" -> options.add("--security-opt=seccomp=unconfined");
            case "RuntimeDefault" -> { } // Docker's default profile is the one containerd's CRI uses
            default -> throw new UnsupportedPodSpec("seccompProfile type " + type + " is not supported here");
        }
    }

    private static void appArmor(JsonNode profile, String annotation, List<String> options) {
        String type = profile.path("type").asString(annotation == null ? "RuntimeDefault" : annotation);
        if ("Unconfined".equals(type) || "unconfined".equals(type)) {
            options.add("--security-opt=apparmor=unconfined");
        } else if (!"RuntimeDefault".equals(type) && !"runtime/default".equals(type)) {
            throw new UnsupportedPodSpec("appArmor profile " + type + " is not supported here");
        }
    }

    // --- probes ---

    private static Probe probe(String kind, JsonNode probe, Map<String, Integer> ports) {
        JsonNode http = probe.path("httpGet");
        if (http.isMissingNode()) {
            throw new UnsupportedPodSpec(kind + " probe is not httpGet: " + probe);
        }
        JsonNode port = http.path("port");
        int number;
        if (port.isNumber() || port.asString("").matches("[0-9]+")) {
            number = port.asInt();
        } else {
            Integer named = ports.get(port.asString());
            if (named == null) {
                throw new UnsupportedPodSpec(kind + " probe port " + port.asString() + " is not a container port");
            }
            number = named;
        }
        return new Probe(kind, http.path("scheme").asString("HTTP"), number, http.path("path").asString("/"),
                probe.path("initialDelaySeconds").asInt(0), probe.path("periodSeconds").asInt(10),
                probe.path("timeoutSeconds").asInt(1), probe.path("successThreshold").asInt(1),
                probe.path("failureThreshold").asInt(3));
    }

    // --- volumes ---

    /** A volume as the node has it, ready to be mounted into the container. */
    private interface VolumeSource {
        String mount(JsonNode volumeMount);
    }

    private Map<String, VolumeSource> volumes(JsonNode podSpec, PodContext pod, List<VolumeAction> actions,
                                              List<String> deviations) {
        Map<String, VolumeSource> sources = new LinkedHashMap<>();
        Path volumesDir = pod.podDirectory().resolve("volumes");
        for (JsonNode volume : podSpec.path("volumes")) {
            String name = volume.path("name").asString();
            if (volume.has("hostPath")) {
                Path path = Path.of(volume.path("hostPath").path("path").asString());
                actions.add(new VolumeAction.HostPath(name, path, volume.path("hostPath").path("type").asString("")));
                sources.put(name, m -> bind(path, m, false));
            } else if (volume.has("emptyDir")) {
                JsonNode emptyDir = volume.path("emptyDir");
                if ("Memory".equals(emptyDir.path("medium").asString(""))) {
                    String size = emptyDir.has("sizeLimit")
                            ? ",size=" + Quantity.parse(emptyDir.path("sizeLimit").asString()).units() : "";
                    // kubelet mounts the tmpfs with size= only: exec, suid and dev, unlike Docker's --tmpfs default
                    String flags = node.memoryTmpfsNoexec() ? "noexec,nosuid,nodev" : "exec,suid,dev";
                    if (node.memoryTmpfsNoexec()) {
                        deviations.add("emptyDir " + name + " (medium Memory) mounted noexec, as a hardened node does");
                    }
                    sources.put(name, m -> {
                        rejectSubPath(m);
                        return "--tmpfs=" + m.path("mountPath").asString() + ":rw," + flags + size;
                    });
                } else {
                    Path path = volumesDir.resolve("kubernetes.io~empty-dir").resolve(name);
                    actions.add(new VolumeAction.EmptyDirectory(name, path));
                    sources.put(name, m -> bind(path, m, false));
                }
            } else if (volume.has("configMap")) {
                JsonNode configMap = volume.path("configMap");
                Path path = volumesDir.resolve("kubernetes.io~configmap").resolve(name);
                Map<String, String> data = lookup(pod.configMaps(), configMap.path("name").asString(), "ConfigMap",
                        configMap.path("optional").asBoolean(false));
                actions.add(new VolumeAction.AtomicFiles(name, path, items(data, configMap.path("items")),
                        configMap.path("defaultMode").asInt(0644)));
                sources.put(name, m -> bind(path, m, true));
            } else if (volume.has("secret")) {
                JsonNode secret = volume.path("secret");
                Path path = volumesDir.resolve("kubernetes.io~secret").resolve(name);
                Map<String, String> data = lookup(pod.secrets(), secret.path("secretName").asString(), "Secret",
                        secret.path("optional").asBoolean(false));
                actions.add(new VolumeAction.AtomicFiles(name, path, items(data, secret.path("items")),
                        secret.path("defaultMode").asInt(0644)));
                sources.put(name, m -> bind(path, m, true));
            } else if (volume.has("projected")) {
                Path path = volumesDir.resolve("kubernetes.io~projected").resolve(name);
                actions.add(new VolumeAction.AtomicFiles(name, path, projected(volume.path("projected"), pod),
                        volume.path("projected").path("defaultMode").asInt(0644)));
                sources.put(name, m -> bind(path, m, true));
            } else if (volume.has("downwardAPI")) {
                Path path = volumesDir.resolve("kubernetes.io~downward-api").resolve(name);
                Map<String, byte[]> files = new LinkedHashMap<>();
                for (JsonNode item : volume.path("downwardAPI").path("items")) {
                    files.put(item.path("path").asString(), fieldValue(item.path("fieldRef").path("fieldPath")
                            .asString(), pod).getBytes(StandardCharsets.UTF_8));
                }
                actions.add(new VolumeAction.AtomicFiles(name, path, files,
                        volume.path("downwardAPI").path("defaultMode").asInt(0644)));
                sources.put(name, m -> bind(path, m, true));
            } else {
                throw new UnsupportedPodSpec("volume " + name + " of an unsupported type: " + volume);
            }
        }
        return sources;
    }

    private static String bind(Path source, JsonNode mount, boolean forceReadOnly) {
        String subPath = mount.path("subPath").asString("");
        Path from = subPath.isEmpty() ? source : source.resolve(subPath);
        boolean readOnly = forceReadOnly || mount.path("readOnly").asBoolean(false);
        String propagation = switch (mount.path("mountPropagation").asString("None")) {
            case "None" -> "rprivate";
            case "HostToContainer" -> "rslave";
            case "Bidirectional" -> "rshared";
            default -> throw new UnsupportedPodSpec("mountPropagation " + mount.path("mountPropagation"));
        };
        return "--mount=type=bind,source=" + from + ",target=" + mount.path("mountPath").asString()
                + (readOnly ? ",readonly" : "") + ",bind-propagation=" + propagation;
    }

    private static void rejectSubPath(JsonNode mount) {
        if (!mount.path("subPath").asString("").isEmpty()) {
            throw new UnsupportedPodSpec("subPath of a memory-backed emptyDir is not supported here: " + mount);
        }
    }

    private static Map<String, String> lookup(Map<String, Map<String, String>> objects, String name, String kind,
                                              boolean optional) {
        Map<String, String> data = objects.get(name);
        if (data == null) {
            if (optional) {
                return Map.of();
            }
            // kubelet keeps the pod in ContainerCreating: the test fails here, saying why
            throw new UnsupportedPodSpec(kind + " " + name + " does not exist; the pod would never start");
        }
        return data;
    }

    private static Map<String, byte[]> items(Map<String, String> data, JsonNode items) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        if (items.isMissingNode() || items.isEmpty()) {
            data.forEach((k, v) -> files.put(k, v.getBytes(StandardCharsets.UTF_8)));
            return files;
        }
        for (JsonNode item : items) {
            String key = item.path("key").asString();
            String value = data.get(key);
            if (value == null) {
                throw new UnsupportedPodSpec("key " + key + " is not in " + data.keySet());
            }
            files.put(item.path("path").asString(key), value.getBytes(StandardCharsets.UTF_8));
        }
        return files;
    }

    private static Map<String, byte[]> projected(JsonNode projected, PodContext pod) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (JsonNode source : projected.path("sources")) {
            if (source.has("serviceAccountToken")) {
                files.put(source.path("serviceAccountToken").path("path").asString("token"),
                        pod.serviceAccountToken().getBytes(StandardCharsets.UTF_8));
            } else if (source.has("configMap")) {
                JsonNode configMap = source.path("configMap");
                files.putAll(items(lookup(pod.configMaps(), configMap.path("name").asString(), "ConfigMap",
                        configMap.path("optional").asBoolean(false)), configMap.path("items")));
            } else if (source.has("secret")) {
                JsonNode secret = source.path("secret");
                files.putAll(items(lookup(pod.secrets(), secret.path("name").asString(), "Secret",
                        secret.path("optional").asBoolean(false)), secret.path("items")));
            } else if (source.has("downwardAPI")) {
                for (JsonNode item : source.path("downwardAPI").path("items")) {
                    files.put(item.path("path").asString(), fieldValue(item.path("fieldRef").path("fieldPath")
                            .asString(), pod).getBytes(StandardCharsets.UTF_8));
                }
            } else {
                throw new UnsupportedPodSpec("projected source not supported: " + source);
            }
        }
        return files;
    }

    // --- env ---

    private static Map<String, String> env(JsonNode podSpec, JsonNode container, PodContext pod) {
        boolean serviceLinks = podSpec.path("enableServiceLinks").asBoolean(true);
        Map<String, String> serviceEnv = ServiceLinks.forPod(pod.namespace(), serviceLinks, pod.services());
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            String prefix = from.path("prefix").asString("");
            Map<String, String> data = from.has("configMapRef")
                    ? lookup(pod.configMaps(), from.path("configMapRef").path("name").asString(), "ConfigMap",
                    from.path("configMapRef").path("optional").asBoolean(false))
                    : lookup(pod.secrets(), from.path("secretRef").path("name").asString(), "Secret",
                    from.path("secretRef").path("optional").asBoolean(false));
            data.forEach((k, v) -> env.put(prefix + k, v));
        }
        for (JsonNode variable : container.path("env")) {
            String name = variable.path("name").asString();
            String value;
            if (variable.has("valueFrom")) {
                value = valueFrom(variable.path("valueFrom"), container, pod);
            } else {
                Map<String, String> visible = new LinkedHashMap<>(serviceEnv);
                visible.putAll(env);
                value = expand(variable.path("value").asString(""), visible);
            }
            env.put(name, value);
        }
        Map<String, String> all = new LinkedHashMap<>(serviceEnv);
        all.putAll(env);
        return all;
    }

    private static String valueFrom(JsonNode valueFrom, JsonNode container, PodContext pod) {
        if (valueFrom.has("fieldRef")) {
            return fieldValue(valueFrom.path("fieldRef").path("fieldPath").asString(), pod);
        }
        if (valueFrom.has("resourceFieldRef")) {
            JsonNode ref = valueFrom.path("resourceFieldRef");
            String[] resource = ref.path("resource").asString().split("\\.");
            JsonNode quantity = container.path("resources").path(resource[0]).path(resource[1]);
            if (quantity.isMissingNode()) {
                throw new UnsupportedPodSpec("resourceFieldRef " + ref + " without that resource set: kubelet "
                        + "would use the node's allocatable, which this harness does not model");
            }
            Quantity divisor = Quantity.parse(ref.path("divisor").asString("1"));
            return Long.toString(Quantity.parse(quantity.asString()).ceilDividedBy(divisor));
        }
        if (valueFrom.has("configMapKeyRef") || valueFrom.has("secretKeyRef")) {
            boolean configMap = valueFrom.has("configMapKeyRef");
            JsonNode ref = valueFrom.path(configMap ? "configMapKeyRef" : "secretKeyRef");
            Map<String, String> data = lookup(configMap ? pod.configMaps() : pod.secrets(), ref.path("name")
                    .asString(), configMap ? "ConfigMap" : "Secret", ref.path("optional").asBoolean(false));
            String value = data.get(ref.path("key").asString());
            if (value == null) {
                throw new UnsupportedPodSpec("key " + ref.path("key").asString() + " missing for " + ref);
            }
            return value;
        }
        throw new UnsupportedPodSpec("valueFrom not supported: " + valueFrom);
    }

    private static final Pattern LABEL_REF = Pattern.compile("metadata\\.(labels|annotations)\\['(.+)'\\]");

    static String fieldValue(String fieldPath, PodContext pod) {
        Matcher labelRef = LABEL_REF.matcher(fieldPath);
        if (labelRef.matches()) {
            Map<String, String> map = labelRef.group(1).equals("labels") ? pod.labels() : pod.annotations();
            return map.getOrDefault(labelRef.group(2), "");
        }
        return switch (fieldPath) {
            case "metadata.name" -> pod.podName();
            case "metadata.namespace" -> pod.namespace();
            case "metadata.uid" -> pod.podUid();
            case "spec.nodeName" -> pod.nodeName();
            case "status.hostIP", "status.hostIPs" -> pod.hostIp();
            case "status.podIP", "status.podIPs" -> pod.podIp();
            default -> throw new UnsupportedPodSpec("fieldRef " + fieldPath + " is not supported here");
        };
    }

    /** kubelet's {@code $(VAR)} expansion: a defined variable is replaced, {@code $$} is a literal $, others stay. */
    static String expand(String value, Map<String, String> env) {
        Matcher matcher = VAR_REF.matcher(value);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String replacement = matcher.group(1) == null ? "$"
                    : Optional.ofNullable(env.get(matcher.group(1))).orElse(matcher.group());
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    // --- helpers ---

    private static JsonNode container(JsonNode podSpec, String name) {
        for (JsonNode container : podSpec.path("containers")) {
            if (name.equals(container.path("name").asString())) {
                return container;
            }
        }
        throw new UnsupportedPodSpec("the pod spec has no container " + name);
    }

    private static JsonNode first(JsonNode preferred, JsonNode fallback) {
        return preferred.isMissingNode() || preferred.isNull() ? fallback : preferred;
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asString()));
        return texts;
    }
}
