package io.driftagent.reporter.json;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.dispatch.AlertSink;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerts as JSON lines (one object per line, flushed per alert) on stdout or appended to a file, in drift-agent's
 * own format or Falco's ({@link AlertFormat}).
 *
 * <p>Each line is written with a single {@code write} call, so with {@code O_APPEND} concurrent writers to the same
 * file never interleave within a line. A file is created with mode 0600 (alerts name binaries and pods); an existing
 * file is appended to with its permissions unchanged.
 *
 * <p>A line is written whole or not at all: when a write fails part-way (disk full, I/O error) the file is truncated
 * back to its length before that line, and the publish fails (the dispatcher counts the lost alert,
 * {@code drift_sink_alerts_total{outcome="failed"}}, and logs it). Where the part cannot be removed (stdout, or the
 * truncate fails too) the next line starts with a line break, so only the broken fragment is unreadable, never the
 * next alert. The truncate assumes this sink is the file's only writer.
 */
public final class JsonLinesSink implements AlertSink {

    private static final Logger LOG = LoggerFactory.getLogger(JsonLinesSink.class);

    private final String name;
    private final OutputStream out;
    private final boolean ownsStream;
    /** The file written to, for truncating a partial line away; null for a stream. */
    private final Path file;
    private final AlertEncoder encoder;
    /** A failed write may have left part of a line that could not be removed: start the next on a fresh line. */
    private boolean lineMayBeOpen;

    /** Writes to {@code out}; {@code ownsStream} decides whether {@link #close()} closes it. */
    public JsonLinesSink(String name, OutputStream out, boolean ownsStream) {
        this(name, out, ownsStream, null, AlertFormat.DRIFT);
    }

    /** Writes to {@code out} in {@code format}; {@code ownsStream} decides whether {@link #close()} closes it. */
    public JsonLinesSink(String name, OutputStream out, boolean ownsStream, AlertFormat format) {
        this(name, out, ownsStream, null, format);
    }

    private JsonLinesSink(String name, OutputStream out, boolean ownsStream, Path file, AlertFormat format) {
        this.name = Objects.requireNonNull(name, "name");
        this.encoder = Objects.requireNonNull(format, "format").newEncoder();
        this.out = Objects.requireNonNull(out, "out");
        this.ownsStream = ownsStream;
        this.file = file;
    }

    /** The process's stdout, unbuffered (not through {@code System.out}, which a logger may share). */
    public static JsonLinesSink stdout() {
        return stdout(AlertFormat.DRIFT);
    }

    /** The process's stdout in {@code format} (same sink name for every format: the metrics keep their series). */
    public static JsonLinesSink stdout(AlertFormat format) {
        return new JsonLinesSink("json-stdout", new FileOutputStream(FileDescriptor.out), false, format);
    }

    /** Appends to {@code file}, creating it with mode 0600 when absent. */
    public static JsonLinesSink appendingTo(Path file) throws IOException {
        return appendingTo(file, AlertFormat.DRIFT);
    }

    /** Appends to {@code file} in {@code format}, creating it with mode 0600 when absent. */
    public static JsonLinesSink appendingTo(Path file, AlertFormat format) throws IOException {
        createPrivately(file);
        // FileOutputStream, not Files.newOutputStream: an interrupt (the dispatcher's timeout) must not close it
        return new JsonLinesSink("json-file", new FileOutputStream(file.toFile(), true), true, file, format);
    }

    private static void createPrivately(Path file) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException alreadyThere) {
            // append to it
        } catch (UnsupportedOperationException notPosix) {
            Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND).close();
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void publish(Alert alert) throws IOException {
        publish(alert, 1);
    }

    @Override
    public synchronized void publish(Alert alert, int count) throws IOException {
        byte[] document = encoder.encode(alert, count);
        int lead = lineMayBeOpen ? 1 : 0;
        byte[] line = new byte[lead + document.length + 1];
        if (lineMayBeOpen) {
            line[0] = '\n';
        }
        System.arraycopy(document, 0, line, lead, document.length);
        line[line.length - 1] = '\n';
        long before = lengthBeforeWrite();
        try {
            out.write(line);
            out.flush();
            lineMayBeOpen = false;
        } catch (IOException e) {
            lineMayBeOpen = !truncateTo(before);
            LOG.warn("alert sink {}: writing alert {} failed ({}); {}", name, alert.id(), e.getMessage(),
                    lineMayBeOpen ? "a partial line may remain, the next alert starts on a new line"
                            : "no partial line left");
            throw e;
        }
    }

    /** The file's length now (stat, not through the stream), or -1 for a stream or when it cannot be had. */
    private long lengthBeforeWrite() {
        if (file == null) {
            return -1;
        }
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    /** Removes what a failed write appended; false when it could not (or there is no file). */
    private boolean truncateTo(long length) {
        if (length < 0) {
            return false;
        }
        // RandomAccessFile, not a FileChannel: an interrupt (the dispatcher's timeout) must not close anything
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            if (raf.length() > length) {
                raf.setLength(length);
            }
            return true;
        } catch (IOException e) {
            LOG.warn("alert sink {}: cannot remove a partial line from {}: {}", name, file, e.getMessage());
            return false;
        }
    }

    @Override
    public synchronized void close() {
        try {
            if (ownsStream) {
                out.close();
            } else {
                out.flush();
            }
        } catch (IOException e) {
            LOG.warn("closing alert sink {} failed", name, e);
        }
    }
}
