package io.driftagent.reporter.json;

import io.driftagent.reporter.alert.Alert;
import io.driftagent.reporter.dispatch.AlertSink;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import org.slf4j.LoggerFactory;

/**
 * Alerts as JSON lines (one object per line, flushed per alert) on stdout or appended to a file.
 *
 * <p>Each line is written with a single {@code write} call, so with {@code O_APPEND} concurrent writers to the same
 * file never interleave within a line. A file is created with mode 0600 (alerts name binaries and pods); an existing
 * file is appended to with its permissions unchanged.
 */
public final class JsonLinesSink implements AlertSink {

    private final String name;
    private final OutputStream out;
    private final boolean ownsStream;
    private final AlertJson json = new AlertJson();

    /** Writes to {@code out}; {@code ownsStream} decides whether {@link #close()} closes it. */
    public JsonLinesSink(String name, OutputStream out, boolean ownsStream) {
        this.name = Objects.requireNonNull(name, "name");
        this.out = Objects.requireNonNull(out, "out");
        this.ownsStream = ownsStream;
    }

    /** The process's stdout, unbuffered (not through {@code System.out}, which a logger may share). */
    public static JsonLinesSink stdout() {
        return new JsonLinesSink("json-stdout", new FileOutputStream(FileDescriptor.out), false);
    }

    /** Appends to {@code file}, creating it with mode 0600 when absent. */
    public static JsonLinesSink appendingTo(Path file) throws IOException {
        createPrivately(file);
        // FileOutputStream, not Files.newOutputStream: an interrupt (the dispatcher's timeout) must not close it
        return new JsonLinesSink("json-file", new FileOutputStream(file.toFile(), true), true);
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
        out.write(json.toLine(alert, count));
        out.flush();
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
            LoggerFactory.getLogger(JsonLinesSink.class).warn("closing alert sink {} failed", name, e);
        }
    }
}
