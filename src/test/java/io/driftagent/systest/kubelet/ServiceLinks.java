package io.driftagent.systest.kubelet;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Docker-links-style variables kubelet injects for Services ({@code pkg/kubelet/envvars}): for a Service
 * {@code drift-agent} at 10.96.0.10 with port {@code http} 9742/TCP: {@code DRIFT_AGENT_SERVICE_HOST},
 * {@code DRIFT_AGENT_SERVICE_PORT}, {@code DRIFT_AGENT_SERVICE_PORT_HTTP}, {@code DRIFT_AGENT_PORT},
 * {@code DRIFT_AGENT_PORT_9742_TCP}, {@code ..._PROTO}, {@code ..._PORT}, {@code ..._ADDR}.
 */
public final class ServiceLinks {

    private ServiceLinks() {
    }

    /** One port of a Service. */
    public record ServicePort(String name, int port, String protocol) {
        public ServicePort {
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("service port out of range: " + port);
            }
            protocol = protocol == null || protocol.isEmpty() ? "TCP" : protocol;
            name = name == null ? "" : name;
        }
    }

    /** A Service as kubelet sees it: name, cluster IP (None or empty: headless, no variables) and ports. */
    public record Service(String name, String namespace, String clusterIp, List<ServicePort> ports) {
        public Service {
            ports = List.copyOf(ports);
        }

        boolean hasClusterIp() {
            return clusterIp != null && !clusterIp.isEmpty() && !"None".equals(clusterIp);
        }
    }

    /**
     * The variables for {@code services} in kubelet's order: the {@code kubernetes} Service of the {@code default}
     * namespace always; the others of the pod's namespace only when {@code enableServiceLinks} is true.
     */
    public static Map<String, String> forPod(String podNamespace, boolean enableServiceLinks, List<Service> services) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Service service : services) {
            if (!service.hasClusterIp()) {
                continue;
            }
            boolean master = "kubernetes".equals(service.name()) && "default".equals(service.namespace());
            boolean sameNamespace = podNamespace.equals(service.namespace());
            if (master || (enableServiceLinks && sameNamespace)) {
                env.putAll(of(service));
            }
        }
        return env;
    }

    /** The variables of one Service. */
    public static Map<String, String> of(Service service) {
        Map<String, String> env = new LinkedHashMap<>();
        if (service.ports().isEmpty()) {
            return env;
        }
        String prefix = service.name().toUpperCase(Locale.ROOT).replace('-', '_');
        env.put(prefix + "_SERVICE_HOST", service.clusterIp());
        ServicePort first = service.ports().get(0);
        env.put(prefix + "_SERVICE_PORT", Integer.toString(first.port()));
        for (ServicePort port : service.ports()) {
            if (!port.name().isEmpty()) {
                env.put(prefix + "_SERVICE_PORT_" + port.name().toUpperCase(Locale.ROOT).replace('-', '_'),
                        Integer.toString(port.port()));
            }
        }
        env.put(prefix + "_PORT", url(first, service.clusterIp()));
        for (ServicePort port : service.ports()) {
            String protocol = port.protocol().toUpperCase(Locale.ROOT);
            String base = prefix + "_PORT_" + port.port() + "_" + protocol;
            env.put(base, url(port, service.clusterIp()));
            env.put(base + "_PROTO", port.protocol().toLowerCase(Locale.ROOT));
            env.put(base + "_PORT", Integer.toString(port.port()));
            env.put(base + "_ADDR", service.clusterIp());
        }
        return env;
    }

    private static String url(ServicePort port, String ip) {
        String host = ip.contains(":") ? "[" + ip + "]" : ip;
        return port.protocol().toLowerCase(Locale.ROOT) + "://" + host + ":" + port.port();
    }
}
