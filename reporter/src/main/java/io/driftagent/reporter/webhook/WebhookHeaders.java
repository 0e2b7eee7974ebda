package io.driftagent.reporter.webhook;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The webhook's custom headers with their values resolved: files are read at {@link #load} (a missing or bad file
 * is an error at start) and read again before a request whenever they changed (a rotated Secret). When a changed
 * file cannot be read or is invalid, the last good value is kept and the failure reported to the listener.
 * Values are never logged.
 */
public final class WebhookHeaders {

    public static final WebhookHeaders NONE = new WebhookHeaders(List.of(), Map.of());

    /** Told when a file was read again with a new value, or could not be. */
    public interface Listener {
        void reloaded(Path file);

        void failed(Path file, String reason);
    }

    private final List<WebhookHeader> headers;
    private final Map<Path, SecretFile> files;

    private WebhookHeaders(List<WebhookHeader> headers, Map<Path, SecretFile> files) {
        this.headers = List.copyOf(headers);
        this.files = files;
    }

    /**
     * Parses {@code Name: value} lines and reads every file they name.
     *
     * @throws IllegalArgumentException a line is not a valid header, or a name repeats
     * @throws IOException              a file cannot be read or holds no valid header value (message: the file)
     */
    public static WebhookHeaders load(List<String> lines) throws IOException {
        List<WebhookHeader> parsed = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String line : lines) {
            WebhookHeader header = WebhookHeader.parse(line);
            if (!names.add(header.name().toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("header " + header.name() + " is configured twice");
            }
            parsed.add(header);
        }
        Map<Path, SecretFile> files = new LinkedHashMap<>();
        for (WebhookHeader header : parsed) {
            for (Path path : header.files()) {
                SecretFile file = files.computeIfAbsent(path, SecretFile::new);
                file.refresh();
            }
        }
        return new WebhookHeaders(parsed, files);
    }

    public List<WebhookHeader> headers() {
        return headers;
    }

    /** Name -> value for the next request, files read again where they changed. */
    public Map<String, String> resolve(Listener listener) {
        Objects.requireNonNull(listener, "listener");
        for (SecretFile file : files.values()) {
            try {
                if (file.refresh().changed()) {
                    listener.reloaded(file.path());
                }
            } catch (IOException e) {
                listener.failed(file.path(), e.getMessage());
            }
        }
        Map<String, String> resolved = new LinkedHashMap<>();
        for (WebhookHeader header : headers) {
            StringBuilder value = new StringBuilder();
            for (WebhookHeader.Part part : header.parts()) {
                if (part instanceof WebhookHeader.Text text) {
                    value.append(text.text());
                } else {
                    value.append(files.get(((WebhookHeader.File) part).path()).lastGood());
                }
            }
            resolved.put(header.name(), value.toString());
        }
        return resolved;
    }

    @Override
    public String toString() {
        return headers.toString();
    }
}
