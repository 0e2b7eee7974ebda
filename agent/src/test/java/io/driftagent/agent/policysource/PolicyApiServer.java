package io.driftagent.agent.policysource;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * fabric8's mock API server in CRUD mode, with two things a real API server has and the mock lacks:
 * <ul>
 * <li>optimistic concurrency on the status subresource: a {@code PUT .../status} whose {@code resourceVersion} is not
 *     the stored one is refused with 409 Conflict (the mock's CRUD store would take it and silently drop the write
 *     that came in between);</li>
 * <li>an API group that is not served until the CRD is "installed" ({@link #uninstallCrd()}): every request under
 *     {@code /apis/drift-agent.io/} then gets 404, as from an API server without the CRD.</li>
 * </ul>
 */
final class PolicyApiServer {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String GROUP_PATH = "/apis/" + DriftPolicyResources.GROUP + "/";

    private final KubernetesMockServer server;
    private final AtomicBoolean crdServed = new AtomicBoolean(true);
    private final AtomicInteger conflicts = new AtomicInteger();
    private final Object writes = new Object();

    private PolicyApiServer() {
        KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
        Dispatcher dispatcher = new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if (request.getPath().startsWith(GROUP_PATH) && !crdServed.get()) {
                    return new MockResponse().setResponseCode(404).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                            + "\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404,\"message\":\"the server could"
                            + " not find the requested resource\"}");
                }
                if (request.method() == HttpMethod.GET) {
                    return crud.dispatch(request);
                }
                synchronized (writes) { // a check-then-write must not interleave with another write
                    if (request.method() == HttpMethod.PUT && request.getPath().endsWith("/status")) {
                        String body = request.getUtf8Body(); // reading consumes it: the store gets a copy
                        MockResponse conflict = staleVersion(crud, request, body);
                        if (conflict != null) {
                            return conflict;
                        }
                        return crud.dispatch(new RecordedRequest(request.getHttpVersion(), request.method(),
                                request.getPath(), request.getHeaders(),
                                new Buffer(body.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
                    }
                    return crud.dispatch(request);
                }
            }

            @Override
            public void shutdown() {
                crud.shutdown();
            }
        };
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, true);
    }

    private MockResponse staleVersion(KubernetesCrudDispatcher crud, RecordedRequest request, String body) {
        String objectPath = request.getPath().substring(0, request.getPath().length() - "/status".length());
        MockResponse stored = crud.dispatch(new RecordedRequest(request.getHttpVersion(), HttpMethod.GET, objectPath,
                request.getHeaders(), null));
        if (stored.code() != 200) {
            return null;
        }
        String storedVersion = JSON.readTree(stored.getBody().readUtf8()).path("metadata").path("resourceVersion").asString();
        JsonNode sent = JSON.readTree(body).path("metadata").path("resourceVersion");
        if (sent.isMissingNode() || sent.asString().isEmpty() || sent.asString().equals(storedVersion)) {
            return null;
        }
        conflicts.incrementAndGet();
        return new MockResponse().setResponseCode(409).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                + "\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,\"message\":\"Operation cannot be"
                + " fulfilled: the object has been modified\"}");
    }

    static PolicyApiServer started() {
        PolicyApiServer api = new PolicyApiServer();
        api.server.init();
        return api;
    }

    KubernetesMockServer server() {
        return server;
    }

    /** From now on the group answers 404, as without the CRD. */
    void uninstallCrd() {
        crdServed.set(false);
    }

    void installCrd() {
        crdServed.set(true);
    }

    /** Status writes refused because another write came in between. */
    int conflicts() {
        return conflicts.get();
    }
}
