package io.driftagent.agent.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A read-only client of the OCI distribution API ({@code /v2/<name>/manifests/<ref>}, {@code /v2/<name>/blobs/<digest>})
 * over the JDK HttpClient. Authentication follows the registry's {@code WWW-Authenticate} challenge: anonymous first;
 * on 401 {@code Basic} the credentials are sent; on 401 {@code Bearer realm=...,service=...,scope=...} a token is
 * fetched from the realm (with the credentials as Basic auth when there are any, anonymously otherwise) and cached
 * per repository. Manifest sizes are bounded; digests are verified by the caller's streams.
 */
public final class RegistryClient {

    static final String MANIFEST_TYPES = String.join(", ",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final int MAX_TOKEN_RESPONSE = 64 * 1024;

    /** A fetched manifest: its bytes, its digest ("sha256:hex") and media type. */
    public record Manifest(byte[] bytes, String digest, String mediaType) {
        public Manifest {
            bytes = bytes.clone();
            Objects.requireNonNull(digest, "digest");
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }
    }

    private final HttpClient http;
    private final URI base;
    private final Optional<RegistryCredentials> credentials;
    private final Duration timeout;
    private final Map<String, String> authorizationByRepository = new ConcurrentHashMap<>();
    private final JsonMapper json = JsonMapper.builder().build();

    /** @param base e.g. {@code http://127.0.0.1:5000} or {@code https://registry.example} */
    public RegistryClient(HttpClient http, URI base, Optional<RegistryCredentials> credentials, Duration timeout) {
        this.http = Objects.requireNonNull(http, "http");
        String scheme = base.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("registry URI must be http or https: " + base);
        }
        this.base = base;
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    public static RegistryClient anonymous(URI base) {
        return new RegistryClient(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(10)).build(), base, Optional.empty(), Duration.ofMinutes(5));
    }

    public static RegistryClient withCredentials(URI base, RegistryCredentials credentials) {
        return new RegistryClient(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(10)).build(), base, Optional.of(credentials),
                Duration.ofMinutes(5));
    }

    public Manifest manifest(String repository, String reference, long maxBytes) throws IOException {
        HttpResponse<InputStream> response = get(repository, "/manifests/" + reference, MANIFEST_TYPES);
        byte[] bytes;
        try (InputStream body = response.body()) {
            checkLength(response.headers(), maxBytes);
            bytes = body.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        }
        if (bytes.length > maxBytes) {
            throw new IOException("manifest " + repository + ":" + reference + " larger than " + maxBytes);
        }
        String digest = OciImageIndexer.sha256(bytes);
        if (reference.startsWith("sha256:") && !reference.equals(digest)) {
            throw new IOException("manifest digest mismatch: asked " + reference + ", got " + digest);
        }
        return new Manifest(bytes, digest, response.headers().firstValue("Content-Type").orElse(""));
    }

    /** The blob's body stream (the caller verifies the digest while reading). */
    public InputStream blob(String repository, String digest, long maxBytes) throws IOException {
        HttpResponse<InputStream> response = get(repository, "/blobs/" + digest, "*/*");
        try {
            checkLength(response.headers(), maxBytes);
        } catch (IOException tooLarge) {
            response.body().close();
            throw tooLarge;
        }
        return response.body();
    }

    public BlobStore blobStore(String repository) {
        return new BlobStore() {
            @Override
            public InputStream open(String digest, long maxBytes) throws IOException {
                return blob(repository, digest, maxBytes);
            }

            @Override
            public String describe() {
                return base + "/" + repository;
            }
        };
    }

    private static void checkLength(HttpHeaders headers, long maxBytes) throws IOException {
        long length = headers.firstValueAsLong("Content-Length").orElse(-1);
        if (length > maxBytes) {
            throw new IOException("response of " + length + " bytes exceeds " + maxBytes);
        }
    }

    private HttpResponse<InputStream> get(String repository, String suffix, String accept) throws IOException {
        if (!repository.matches("[a-z0-9]+(?:[._-][a-z0-9]+|__)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+|__)*)*")) {
            throw new IOException("invalid repository name: " + repository);
        }
        URI uri = base.resolve("/v2/" + repository + suffix);
        HttpResponse<InputStream> response = send(uri, accept, authorizationByRepository.get(repository));
        if (response.statusCode() == 401) {
            String challenge = response.headers().firstValue("WWW-Authenticate").orElse("");
            response.body().close();
            String authorization = answer(challenge, repository);
            authorizationByRepository.put(repository, authorization);
            response = send(uri, accept, authorization);
        }
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException("GET " + uri + " -> HTTP " + response.statusCode());
        }
        return response;
    }

    private HttpResponse<InputStream> send(URI uri, String accept, String authorization) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", accept).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted fetching " + uri);
        }
    }

    private String answer(String challenge, String repository) throws IOException {
        String scheme = challenge.split(" ", 2)[0].trim();
        Map<String, String> params = new HashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(2));
        }
        if (scheme.equalsIgnoreCase("Basic")) {
            return credentials.orElseThrow(() -> new IOException("registry " + base + " wants Basic auth and no "
                    + "credentials are configured")).basicHeader();
        }
        if (scheme.equalsIgnoreCase("Bearer")) {
            return "Bearer " + fetchToken(params, repository);
        }
        throw new IOException("unsupported auth challenge from " + base + ": " + scheme);
    }

    private String fetchToken(Map<String, String> challenge, String repository) throws IOException {
        String realm = challenge.get("realm");
        if (realm == null) {
            throw new IOException("Bearer challenge without realm from " + base);
        }
        URI realmUri = URI.create(realm);
        if (!"http".equals(realmUri.getScheme()) && !"https".equals(realmUri.getScheme())) {
            throw new IOException("token realm must be http(s): " + realm);
        }
        StringBuilder query = new StringBuilder();
        if (challenge.containsKey("service")) {
            query.append("service=").append(URLEncoder.encode(challenge.get("service"), StandardCharsets.UTF_8));
        }
        String scope = challenge.getOrDefault("scope", "repository:" + repository + ":pull");
        query.append(query.length() > 0 ? "&" : "").append("scope=")
                .append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI tokenUri = URI.create(realm + (realm.contains("?") ? "&" : "?") + query);
        HttpResponse<InputStream> response = send(tokenUri, "application/json",
                credentials.map(RegistryCredentials::basicHeader).orElse(null));
        byte[] body;
        try (InputStream in = response.body()) {
            body = in.readNBytes(MAX_TOKEN_RESPONSE + 1);
        }
        if (response.statusCode() != 200 || body.length > MAX_TOKEN_RESPONSE) {
            throw new IOException("token endpoint " + realmUri.getHost() + " -> HTTP " + response.statusCode());
        }
        try {
            JsonNode token = json.readTree(body);
            String value = token.path("token").asString(token.path("access_token").asString(""));
            if (value.isEmpty()) {
                throw new IOException("token endpoint returned no token");
            }
            return value;
        } catch (JacksonException malformed) {
            throw new IOException("malformed token response", malformed);
        }
    }
}
