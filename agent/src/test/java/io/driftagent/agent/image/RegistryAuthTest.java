package io.driftagent.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.driftagent.agent.fixture.OciLayout.Compression;
import io.driftagent.agent.fixture.tier.TestTiers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Debian registry here runs without auth, so a JDK HttpServer fronts it: it answers /v2/ requests lacking the
 * right Authorization with 401 and a Basic or Bearer challenge (the Bearer realm is its own /token endpoint, which
 * wants Basic credentials and hands out a token), and forwards authorised requests to the real registry. The index
 * built through it must equal the one built from the registry directly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.CONTAINERS)
class RegistryAuthTest {

    private static final String REPOSITORY = "drift-image-test/auth";
    private static final RegistryCredentials GOOD = new RegistryCredentials("drift", "s3cret");
    private static final String TOKEN = "token-" + System.nanoTime();

    private Path work;
    private HttpServer server;
    private final AtomicInteger tokenRequests = new AtomicInteger();
    private final AtomicInteger forwarded = new AtomicInteger();
    private volatile String mode = "basic";
    private final HttpClient upstream = HttpClient.newHttpClient();
    private Map<String, String> direct;

    @BeforeAll
    void pushImageAndStartAuthFront() throws Exception {
        Assumptions.assumeTrue(TestImageLayout.BUSYBOX != null, "needs busybox-static at /bin/busybox");
        Assumptions.assumeTrue(ImageIndexSourcesAgreeTest.commandWorks("curl", "-fsS", "http://127.0.0.1:5000/v2/"),
                "needs the registry on 127.0.0.1:5000 (scripts/host-setup.sh)");
        work = Files.createTempDirectory("drift-registry-auth");
        TestImageLayout layout = TestImageLayout.write(work.resolve("layout"), "drift-image-test.local/auth:v1",
                Compression.GZIP, Compression.ZSTD, Compression.GZIP);
        ImageIndexSourcesAgreeTest.run("skopeo", "copy", "--dest-tls-verify=false",
                "oci:" + layout.dir + ":" + TestImageLayout.REF,
                "docker://127.0.0.1:5000/" + REPOSITORY + ":" + TestImageLayout.REF);
        direct = ImageIndexSourcesAgreeTest.describe(OciImageIndexer.linuxAmd64().fromRegistry(
                RegistryClient.anonymous(URI.create("http://127.0.0.1:5000")), REPOSITORY, TestImageLayout.REF));

        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", this::token);
        server.createContext("/v2/", this::registry);
        server.start();
    }

    @AfterEach
    void resetCounters() {
        tokenRequests.set(0);
        forwarded.set(0);
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.stop(0);
        }
        if (work != null) {
            ImageIndexSourcesAgreeTest.runQuietly("rm", "-rf", work.toString());
        }
    }

    private URI front() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Test
    void basicAuthChallengeIsAnsweredWithTheCredentials() throws Exception {
        mode = "basic";

        CompactImageIndex index = OciImageIndexer.linuxAmd64().fromRegistry(
                RegistryClient.withCredentials(front(), GOOD), REPOSITORY, TestImageLayout.REF);

        assertThat(ImageIndexSourcesAgreeTest.describe(index)).isEqualTo(direct);
        assertThat(forwarded.get()).isGreaterThanOrEqualTo(4); // manifest + 3 layers
        assertThat(tokenRequests.get()).isZero();
    }

    @Test
    void bearerChallengeFetchesATokenFromTheRealmOnceAndReusesIt() throws Exception {
        mode = "bearer";

        CompactImageIndex index = OciImageIndexer.linuxAmd64().fromRegistry(
                RegistryClient.withCredentials(front(), GOOD), REPOSITORY, TestImageLayout.REF);

        assertThat(ImageIndexSourcesAgreeTest.describe(index)).isEqualTo(direct);
        assertThat(tokenRequests.get()).isEqualTo(1);
    }

    @Test
    void missingOrWrongCredentialsFailWithAnIoException() {
        mode = "basic";
        assertThatThrownBy(() -> OciImageIndexer.linuxAmd64().fromRegistry(RegistryClient.anonymous(front()),
                REPOSITORY, TestImageLayout.REF)).isInstanceOf(IOException.class).hasMessageContaining("Basic");

        mode = "bearer";
        assertThatThrownBy(() -> OciImageIndexer.linuxAmd64().fromRegistry(
                RegistryClient.withCredentials(front(), new RegistryCredentials("drift", "wrong")),
                REPOSITORY, TestImageLayout.REF)).isInstanceOf(IOException.class).hasMessageContaining("token");
    }

    private void token(HttpExchange exchange) throws IOException {
        tokenRequests.incrementAndGet();
        String query = exchange.getRequestURI().getRawQuery();
        boolean scoped = query != null && query.contains("scope=repository%3A" + REPOSITORY.replace("/", "%2F")
                + "%3Apull") && query.contains("service=drift-test");
        if (!GOOD.basicHeader().equals(exchange.getRequestHeaders().getFirst("Authorization")) || !scoped) {
            respond(exchange, 401, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
            return;
        }
        respond(exchange, 200, ("{\"token\":\"" + TOKEN + "\"}").getBytes(StandardCharsets.UTF_8),
                Map.of("Content-Type", "application/json"));
    }

    private void registry(HttpExchange exchange) throws IOException {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        boolean basic = mode.equals("basic");
        String wanted = basic ? GOOD.basicHeader() : "Bearer " + TOKEN;
        if (!wanted.equals(authorization)) {
            String challenge = basic ? "Basic realm=\"drift-test\""
                    : "Bearer realm=\"" + front() + "/token\",service=\"drift-test\",scope=\"repository:"
                    + REPOSITORY + ":pull\"";
            respond(exchange, 401, new byte[0], Map.of("WWW-Authenticate", challenge));
            return;
        }
        forwarded.incrementAndGet();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:5000"
                + exchange.getRequestURI()));
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        if (accept != null) {
            request.header("Accept", accept);
        }
        try {
            HttpResponse<byte[]> response = upstream.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            respond(exchange, response.statusCode(), response.body(),
                    Map.of("Content-Type", response.headers().firstValue("Content-Type").orElse("application/octet-stream")));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            respond(exchange, 503, new byte[0], Map.of());
        }
    }

    private static void respond(HttpExchange exchange, int status, byte[] body, Map<String, String> headers)
            throws IOException {
        try (InputStream ignored = exchange.getRequestBody(); OutputStream out = exchange.getResponseBody()) {
            headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                out.write(body);
            }
        }
    }

}
