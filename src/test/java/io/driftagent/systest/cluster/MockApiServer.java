package io.driftagent.systest.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fabric8's mock API server in CRUD mode over HTTPS on 127.0.0.1, with the self-signed certificate it makes for
 * itself (subject alternative names localhost and 127.0.0.1): that PEM is what the pod gets as its projected
 * {@code ca.crt}, so the agent trusts this server exactly as it trusts a cluster's.
 *
 * <p>The mock's CRUD store only understands {@code metadata.*} field selectors; a {@code spec.nodeName} selector
 * would match nothing. Field selectors are removed before the store sees the request, as a server that ignored them
 * would answer: the agent must keep other nodes' pods out itself.
 */
public final class MockApiServer implements AutoCloseable {

    private static final Pattern FIELD_SELECTOR = Pattern.compile("([?&])fieldSelector=([^&]*)&?");

    private final MockWebServer web = new MockWebServer();
    private final KubernetesMockServer server;
    private final KubernetesClient client;

    private MockApiServer() {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                Matcher selector = FIELD_SELECTOR.matcher(request.getPath());
                if (!selector.find()) {
                    return crud.dispatch(request);
                }
                String path = selector.replaceFirst("$1");
                if (path.endsWith("?") || path.endsWith("&")) {
                    path = path.substring(0, path.length() - 1);
                }
                return crud.dispatch(new RecordedRequest(request.getHttpVersion(), request.method(), path,
                        request.getHeaders(), request.getBody()));
            }

            @Override
            public void shutdown() {
                crud.shutdown();
            }
        };
        server = new KubernetesMockServer(new Context(), web, new HashMap<>(), dispatcher, true);
        server.init(InetAddress.getLoopbackAddress(), 0);
        client = server.createClient();
    }

    public static MockApiServer started() {
        return new MockApiServer();
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return server.getPort();
    }

    /** A client for the test's own reads and writes (it trusts the server's certificate). */
    public KubernetesClient client() {
        return client;
    }

    /** The server's certificate, PEM: the cluster CA a pod finds in its projected {@code ca.crt}. */
    public String caCertificatePem() throws IOException {
        if (web.getSelfSignedCertificate() == null) {
            throw new IllegalStateException("the mock API server is not serving HTTPS");
        }
        return Files.readString(Path.of(web.getSelfSignedCertificate().certificatePath()));
    }

    @Override
    public void close() {
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException slowClose) {
            // the mock's vert.x server may exceed its own close timeout on a loaded machine; it is stopping anyway
        }
    }
}
