package io.driftagent.reporter.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** A real HTTP(S) server on 127.0.0.1 that records each POST (body and headers) and answers 200. */
final class LoopbackReceiver implements AutoCloseable {

    record Request(byte[] body, Headers headers) {
        String header(String name) {
            return headers.getFirst(name);
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();

    private LoopbackReceiver(HttpServer server) {
        this.server = server;
        server.createContext("/hook", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                requests.add(new Request(in.readAllBytes(), exchange.getRequestHeaders()));
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.setExecutor(executor);
        server.start();
    }

    static LoopbackReceiver http() throws IOException {
        return new LoopbackReceiver(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0));
    }

    /** HTTPS with the server certificate of {@code ca} for 127.0.0.1. */
    static LoopbackReceiver https(PrivateCa ca) throws Exception {
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(ca.serverContext()));
        return new LoopbackReceiver(https);
    }

    URI endpoint() {
        String scheme = server instanceof HttpsServer ? "https" : "http";
        return URI.create(scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/hook");
    }

    Request next(Duration timeout) throws InterruptedException {
        Request request = requests.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(request).as("a request within " + timeout).isNotNull();
        return request;
    }

    boolean nothingReceived() {
        return requests.isEmpty();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /**
     * A private certificate authority made with keytool: its own CA certificate (basicConstraints CA) in a PEM
     * file, and a server certificate for 127.0.0.1 signed by it, so a client trusts the server only through the CA.
     */
    static final class PrivateCa {
        private static final String PASS = "changeit";
        private final Path serverStore;
        final Path caPem;

        PrivateCa(Path dir) throws Exception {
            Path caStore = dir.resolve("ca.p12");
            serverStore = dir.resolve("server.p12");
            caPem = dir.resolve("ca.pem");
            Path csr = dir.resolve("server.csr");
            Path signed = dir.resolve("server.pem");
            keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                    "CN=drift-agent test CA", "-ext", "bc:c", "-validity", "2", "-storetype", "PKCS12", "-keystore",
                    caStore.toString(), "-storepass", PASS, "-keypass", PASS);
            keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", caStore.toString(), "-storepass", PASS,
                    "-file", caPem.toString());
            keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                    "CN=127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", serverStore.toString(),
                    "-storepass", PASS, "-keypass", PASS);
            keytool("-certreq", "-alias", "server", "-keystore", serverStore.toString(), "-storepass", PASS,
                    "-file", csr.toString());
            keytool("-gencert", "-rfc", "-alias", "ca", "-keystore", caStore.toString(), "-storepass", PASS,
                    "-infile", csr.toString(), "-outfile", signed.toString(), "-ext", "san=ip:127.0.0.1",
                    "-validity", "2");
            keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore",
                    serverStore.toString(), "-storepass", PASS);
            keytool("-importcert", "-alias", "server", "-file", signed.toString(), "-keystore",
                    serverStore.toString(), "-storepass", PASS);
        }

        SSLContext serverContext() throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(serverStore)) {
                ks.load(in, PASS.toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASS.toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        }

        private static void keytool(String... args) throws Exception {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(String.join(" ", args) + ": " + output).isZero();
        }
    }
}
