package io.driftagent.reporter.webhook;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One custom header of the webhook's requests, parsed from {@code Name: value}. The value may hold
 * {@code {{file:/absolute/path}}} placeholders, each replaced by that file's content (a mounted Secret), e.g.
 * {@code Authorization: Splunk {{file:/etc/drift-agent/webhook-headers/hec-token}}}. See docs/alerts.md, "Webhook".
 *
 * @param name  the header name, as written
 * @param parts the value: literal text and files, in order
 */
public record WebhookHeader(String name, List<Part> parts) {

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
    /**
     * Names the agent sets itself or the HTTP client owns. Content-Type and User-Agent may be replaced.
     */
    static final Set<String> RESERVED = Set.of("connection", "content-length", "date", "expect", "from", "host",
            "referer", "upgrade", "via", "warning", "transfer-encoding", "te", "trailer", "keep-alive",
            "proxy-connection", WebhookSignature.SIGNATURE_HEADER.toLowerCase(Locale.ROOT),
            WebhookSignature.TIMESTAMP_HEADER.toLowerCase(Locale.ROOT));

    public WebhookHeader {
        Objects.requireNonNull(name, "name");
        parts = List.copyOf(parts);
    }

    /** A piece of a header value: literal text, or the content of a file. */
    public sealed interface Part permits Text, File {
    }

    public record Text(String text) implements Part {
    }

    public record File(Path path) implements Part {
    }

    /**
     * Parses {@code Name: value}.
     *
     * @throws IllegalArgumentException naming what is wrong (never echoing the value: it may be a secret)
     */
    public static WebhookHeader parse(String line) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected 'Name: value', got no header name before ':'");
        }
        String name = line.substring(0, colon).strip();
        if (!TOKEN.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + printable(name) + "' is not a valid header name");
        }
        if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("header " + name + " is set by the agent or the HTTP client and cannot"
                    + " be configured");
        }
        String value = line.substring(colon + 1).strip();
        List<Part> parts = new ArrayList<>();
        int i = 0;
        while (i < value.length()) {
            int open = value.indexOf("{{", i);
            if (open < 0) {
                parts.add(new Text(value.substring(i)));
                break;
            }
            if (open > i) {
                parts.add(new Text(value.substring(i, open)));
            }
            int close = value.indexOf("}}", open + 2);
            if (close < 0) {
                throw new IllegalArgumentException("header " + name + ": unterminated '{{' at offset " + open);
            }
            String placeholder = value.substring(open + 2, close).strip();
            if (!placeholder.startsWith("file:")) {
                throw new IllegalArgumentException("header " + name + ": unknown placeholder at offset " + open
                        + " (only {{file:/absolute/path}})");
            }
            Path path = Path.of(placeholder.substring("file:".length()).strip());
            if (!path.isAbsolute()) {
                throw new IllegalArgumentException("header " + name + ": {{file:...}} needs an absolute path, got "
                        + path);
            }
            parts.add(new File(path));
            i = close + 2;
        }
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("header " + name + " has an empty value");
        }
        for (Part part : parts) {
            if (part instanceof Text text) {
                for (int c = 0; c < text.text().length(); c++) {
                    char ch = text.text().charAt(c);
                    if (ch != '\t' && (ch < 0x20 || ch > 0x7e)) {
                        throw new IllegalArgumentException("header " + name + ": the value holds a character an HTTP"
                                + " header cannot carry (only printable ASCII)");
                    }
                }
            }
        }
        return new WebhookHeader(name, parts);
    }

    /** The files the value reads. */
    public List<Path> files() {
        return parts.stream().filter(File.class::isInstance).map(p -> ((File) p).path()).toList();
    }

    private static String printable(String s) {
        return s.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? s : "(unprintable)";
    }

    @Override
    public String toString() {
        // the literal text may be a token too (a value written inline): show only the shape
        return name + ": " + parts.stream().map(p -> p instanceof File f ? "{{file:" + f.path() + "}}" : "…")
                .reduce("", String::concat);
    }
}
