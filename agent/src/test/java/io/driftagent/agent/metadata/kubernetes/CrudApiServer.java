package io.driftagent.agent.metadata.kubernetes;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fabric8's mock API server in CRUD mode (it stores what is created and serves lists and watches of it).
 *
 * <p>The mock's CRUD store only understands {@code metadata.*} field selectors; a {@code spec.nodeName} selector
 * matches nothing there. This wrapper records the field selectors clients send (so tests can assert the
 * informer asks the server for this node's pods only) and removes them before the CRUD store sees the request, so
 * the store returns every pod, as a server that ignored the selector would: the informer must then still keep
 * other nodes' pods out.
 */
public final class CrudApiServer {
    private static final Pattern FIELD_SELECTOR = Pattern.compile("([?&])fieldSelector=([^&]*)&?");

    private final KubernetesMockServer server;
    private final List<String> fieldSelectors = new CopyOnWriteArrayList<>();

    private CrudApiServer() {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                Matcher selector = FIELD_SELECTOR.matcher(request.getPath());
                if (!selector.find()) {
                    return crud.dispatch(request);
                }
                fieldSelectors.add(URLDecoder.decode(selector.group(2), StandardCharsets.UTF_8));
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
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, true);
    }

    public static CrudApiServer started() {
        CrudApiServer api = new CrudApiServer();
        api.server.init();
        return api;
    }

    /** A fresh, empty server on {@code port} (the mock cannot be restarted: a new one stands in after an outage). */
    public static CrudApiServer startedOn(int port) {
        CrudApiServer api = new CrudApiServer();
        api.server.init(java.net.InetAddress.getLoopbackAddress(), port);
        return api;
    }

    public KubernetesMockServer server() {
        return server;
    }

    /** Every field selector clients sent, decoded ({@code spec.nodeName=node-a}). */
    List<String> fieldSelectorsSeen() {
        return List.copyOf(fieldSelectors);
    }
}
