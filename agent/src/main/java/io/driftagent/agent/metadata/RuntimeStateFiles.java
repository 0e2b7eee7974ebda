package io.driftagent.agent.metadata;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * Reads a container runtime's state files (bundle {@code config.json}, Docker's {@code config.v2.json}). The
 * directories are root-owned, but the content is partly container-controlled (labels, annotations, env), so a
 * read never follows a symlink, never opens anything but a regular file (a FIFO would block) and is bounded.
 */
public final class RuntimeStateFiles {
    private RuntimeStateFiles() {
    }

    /** The file's bytes; empty when it does not exist. */
    public static Optional<byte[]> read(Path file, long maxBytes) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
        if (!attributes.isRegularFile()) {
            throw new IOException("not a regular file: " + file);
        }
        if (attributes.size() > maxBytes) {
            throw new IOException("larger than " + maxBytes + " bytes: " + file);
        }
        try (SeekableByteChannel channel = Files.newByteChannel(file, StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS); InputStream in = Channels.newInputStream(channel)) {
            byte[] content = in.readNBytes((int) maxBytes + 1);
            if (content.length > maxBytes) {
                throw new IOException("grew beyond " + maxBytes + " bytes while read: " + file);
            }
            return Optional.of(content);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
    }
}
