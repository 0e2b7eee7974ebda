package io.driftagent.agent.image;

import com.github.luben.zstd.ZstdInputStream;
import io.driftagent.agent.image.IndexEntry.EntryType;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Feeds one OCI layer (tar, tar+gzip or tar+zstd, detected from its magic bytes rather than trusted from the media
 * type) into a {@link MergedImageBuilder}: {@code .wh.<name>} whiteouts, {@code .wh..wh..opq} opaque markers, hard
 * links, symlinks, devices; the sha256 of every regular file computed from the stream. Entry names are decoded as
 * UTF-8 (PAX names are UTF-8 by definition; a ustar name that is not valid UTF-8 is decoded lossily — unlike the
 * layer-directory walk, which keeps such names byte-exact). Names with ".." are dropped.
 */
final class LayerTarReader {

    private static final String WHITEOUT_PREFIX = ".wh.";
    private static final String OPAQUE_MARKER = ".wh..wh..opq";

    private final OciLimits limits;

    LayerTarReader(OciLimits limits) {
        this.limits = limits;
    }

    void read(InputStream blob, MergedImageBuilder builder) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(blob, 64 * 1024);
        InputStream tar = new BoundedInputStream(decompress(buffered), limits.maxLayerBytes());
        TarArchiveInputStream entries = new TarArchiveInputStream(tar, StandardCharsets.UTF_8.name());
        MessageDigest sha = newSha256();
        byte[] buffer = new byte[64 * 1024];
        TarArchiveEntry entry;
        while ((entry = entries.getNextEntry()) != null) {
            String path = ImagePaths.normalize("/" + entry.getName());
            if (path == null) {
                continue;
            }
            String name = ImagePaths.name(path);
            if (name.startsWith(WHITEOUT_PREFIX)) {
                String parent = ImagePaths.parent(path);
                if (name.equals(OPAQUE_MARKER)) {
                    builder.opaque(parent);
                } else if (!name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
                    builder.whiteout((parent.equals("/") ? "" : parent) + "/" + name.substring(WHITEOUT_PREFIX.length()));
                }
                continue;
            }
            int mode = entry.getMode() & 07777;
            if (entry.isSymbolicLink()) {
                builder.add(path, EntryType.SYMLINK, mode, 0, entry.getLinkName(), null);
            } else if (entry.isLink()) {
                String target = ImagePaths.normalize("/" + entry.getLinkName());
                if (target != null) {
                    builder.add(path, EntryType.HARDLINK, mode, 0, target, null);
                }
            } else if (entry.isDirectory()) {
                builder.add(path, EntryType.DIRECTORY, mode, 0, null, null);
            } else if (entry.isCharacterDevice()) {
                builder.add(path, EntryType.CHAR_DEVICE, mode, 0, null, null);
            } else if (entry.isBlockDevice()) {
                builder.add(path, EntryType.BLOCK_DEVICE, mode, 0, null, null);
            } else if (entry.isFIFO()) {
                builder.add(path, EntryType.FIFO, mode, 0, null, null);
            } else if (entry.isFile()) {
                sha.reset();
                long size = 0;
                int n;
                while ((n = entries.read(buffer, 0, buffer.length)) > 0) {
                    sha.update(buffer, 0, n);
                    size += n;
                }
                builder.add(path, EntryType.REGULAR, mode, size, null, sha.digest());
            }
        }
        byte[] rest = new byte[64 * 1024];
        while (tar.read(rest) >= 0) {
            // drain the compressed trailer so the caller's digest check sees every byte
        }
    }

    private static InputStream decompress(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 64 * 1024);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return new ZstdInputStream(in);
        }
        return in;
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /** Fails once more than maxBytes have been read (a decompression bomb). */
    private static final class BoundedInputStream extends FilterInputStream {
        private final long maxBytes;
        private long count;

        BoundedInputStream(InputStream in, long maxBytes) {
            super(in);
            this.maxBytes = maxBytes;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0 && ++count > maxBytes) {
                throw new IOException("layer larger than " + maxBytes + " bytes uncompressed");
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0 && (count += n) > maxBytes) {
                throw new IOException("layer larger than " + maxBytes + " bytes uncompressed");
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            if ((count += skipped) > maxBytes) {
                throw new IOException("layer larger than " + maxBytes + " bytes uncompressed");
            }
            return skipped;
        }
    }
}
