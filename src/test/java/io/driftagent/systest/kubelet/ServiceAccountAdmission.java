package io.driftagent.systest.kubelet;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The ServiceAccount admission plugin's change to a pod: unless the pod or its ServiceAccount opts out
 * ({@code automountServiceAccountToken: false}), a projected {@code kube-api-access-*} volume (token, the
 * {@code kube-root-ca.crt} ConfigMap's {@code ca.crt}, the namespace) mounted read-only at
 * {@code /var/run/secrets/kubernetes.io/serviceaccount} in every container.
 */
public final class ServiceAccountAdmission {

    public static final String MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
    public static final String ROOT_CA_CONFIG_MAP = "kube-root-ca.crt";
    private static final String VOLUME = "kube-api-access-sysx1";

    private ServiceAccountAdmission() {
    }

    /** The admitted pod spec (a copy); {@code serviceAccount} may be a missing node when the chart renders none. */
    public static JsonNode admit(JsonNode podSpec, JsonNode serviceAccount) {
        ObjectNode spec = (ObjectNode) podSpec.deepCopy();
        boolean podSays = spec.path("automountServiceAccountToken").asBoolean(true);
        boolean accountSays = serviceAccount.path("automountServiceAccountToken").asBoolean(true);
        if (spec.has("automountServiceAccountToken") ? !podSays : !accountSays) {
            return spec;
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode projected = f.objectNode().put("defaultMode", 0644);
        ArrayNode sources = projected.putArray("sources");
        sources.addObject().putObject("serviceAccountToken").put("expirationSeconds", 3607).put("path", "token");
        ObjectNode configMap = sources.addObject().putObject("configMap").put("name", ROOT_CA_CONFIG_MAP);
        configMap.putArray("items").addObject().put("key", "ca.crt").put("path", "ca.crt");
        sources.addObject().putObject("downwardAPI").putArray("items").addObject().put("path", "namespace")
                .putObject("fieldRef").put("apiVersion", "v1").put("fieldPath", "metadata.namespace");
        ObjectNode volume = f.objectNode().put("name", VOLUME);
        volume.set("projected", projected);
        (spec.has("volumes") ? (ArrayNode) spec.get("volumes") : spec.putArray("volumes")).add(volume);
        for (JsonNode container : spec.path("containers")) {
            ObjectNode c = (ObjectNode) container;
            boolean mounted = false;
            for (JsonNode mount : c.path("volumeMounts")) {
                mounted |= MOUNT_PATH.equals(mount.path("mountPath").asString());
            }
            if (!mounted) {
                (c.has("volumeMounts") ? (ArrayNode) c.get("volumeMounts") : c.putArray("volumeMounts")).addObject()
                        .put("name", VOLUME).put("readOnly", true).put("mountPath", MOUNT_PATH);
            }
        }
        return spec;
    }
}
