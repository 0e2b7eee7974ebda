package io.driftagent.reporter.webhook;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * A small secret held in a file (a Kubernetes Secret mounted as a volume), read again when the file changes: kubelet
 * replaces a Secret's files by swapping a symlink, so a rotated token reaches the next request without a restart.
 * The content is trimmed of surrounding whitespace (a trailing newline from {@code echo} or an editor) and must be
 * printable ASCII, as an HTTP header value must. Never logged: errors name the file, never its content.
 * Confined to one thread at a time (synchronized).
 */
final class SecretFile {

    /** A header value, not a document: anything larger is a mistake (the wrong file mounted). */
    static final int MAX_BYTES = 16 * 1024;

    /** What the file looked like when last read. */
    private record Stamp(Object fileKey, FileTime modified, long size, boolean regular) {
    }

    /** The version of a file that could not even be looked at. */
    private static final Stamp MISSING = new Stamp(null, null, -1, false);

    private final Path path;
    private Stamp stamp;
    /** The version that failed last, reported once; null when the last read succeeded. */
    private Stamp failedStamp;
    private String value;

    SecretFile(Path path) {
        this.path = Objects.requireNonNull(path, "path");
    }

    Path path() {
        return path;
    }

    /**
     * The current value, read again when the file's identity, size or modification time changed since the last read.
     * A failure is reported (thrown) once per bad version of the file: asked again while nothing changed, the last
     * good value is returned as unchanged, so a Secret left broken does not fail (and log) every request.
     *
     * @return the value, and whether this call read a new value that differs from the one before
     * @throws IOException when the file cannot be read or holds no valid value (the message names the file only);
     *                     the last good value stays in place for {@link #lastGood()}
     */
    synchronized Refresh refresh() throws IOException {
        Stamp now;
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            now = new Stamp(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size(),
                    attributes.isRegularFile());
        } catch (IOException e) {
            return failed(MISSING, new IOException(path + " cannot be read: " + e.getClass().getSimpleName(), e));
        }
        if (now.equals(stamp) && value != null) {
            return new Refresh(value, false);
        }
        if (value != null && now.equals(failedStamp)) {
            return new Refresh(value, false);
        }
        String read;
        try {
            if (!now.regular()) {
                throw new IOException(path + " is not a regular file");
            }
            if (now.size() > MAX_BYTES) {
                throw new IOException(path + " is larger than " + MAX_BYTES + " bytes");
            }
            read = validated(Files.readAllBytes(path));
        } catch (IOException e) {
            return failed(now, e);
        }
        boolean changed = value != null && !read.equals(value);
        stamp = now;
        failedStamp = null;
        value = read;
        return new Refresh(read, changed);
    }

    private Refresh failed(Stamp version, IOException e) throws IOException {
        if (value != null && version.equals(failedStamp)) {
            return new Refresh(value, false);
        }
        failedStamp = version;
        throw e;
    }

    /** The value last read successfully, null before the first. */
    synchronized String lastGood() {
        return value;
    }

    private String validated(byte[] bytes) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(path + " is not text (UTF-8)");
        }
        text = text.strip();
        if (text.isEmpty()) {
            throw new IOException(path + " is empty");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\t' && (c < 0x20 || c > 0x7e)) {
                throw new IOException(path + " holds a character an HTTP header value cannot carry (offset " + i
                        + "; only printable ASCII)");
            }
        }
        return text;
    }

    /** @param changed a later read found a different value than before */
    record Refresh(String value, boolean changed) {
    }

    @Override
    public String toString() {
        return "SecretFile[" + path + "]";
    }
}
