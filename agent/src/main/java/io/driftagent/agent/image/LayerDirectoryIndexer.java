package io.driftagent.agent.image;

import io.driftagent.agent.fs.FileFacts;
import io.driftagent.agent.fs.NativeFiles;
import io.driftagent.agent.fs.NoFollowRootedFiles;
import io.driftagent.agent.fs.RootedFiles;
import io.driftagent.agent.fs.RootedTreeWalker;
import io.driftagent.agent.fs.TreeEntry;
import io.driftagent.agent.image.IndexEntry.EntryType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds an image index from a container's unpacked overlay lower directories (top first), the form containerd's
 * and Docker's overlay snapshotters leave on disk: whiteouts are character devices 0/0, opaque directories carry
 * {@code trusted.overlay.opaque=y} (or {@code user.overlay.opaque=y}). Directories are walked without following
 * symlinks ({@link RootedTreeWalker}); sha256s are computed lazily, once, from the layer file through
 * {@link RootedFiles} (layer contents come from the image, which an attacker may have shaped).
 */
public final class LayerDirectoryIndexer {

    private static final Logger LOG = LoggerFactory.getLogger(LayerDirectoryIndexer.class);

    private final RootedTreeWalker walker;
    private final RootedFiles files;
    private final long maxHashedFileBytes;
    private final long maxEntries;

    public LayerDirectoryIndexer(RootedTreeWalker walker, RootedFiles files, long maxHashedFileBytes,
                                 long maxEntries) {
        this.walker = walker;
        this.files = files;
        this.maxHashedFileBytes = maxHashedFileBytes;
        this.maxEntries = maxEntries;
    }

    /** Defaults: 10 million entries, depth 1024, files up to 4 GiB hashed. */
    public static LayerDirectoryIndexer create() {
        NativeFiles nativeFiles = NativeFiles.load();
        long maxEntries = 10_000_000L;
        return new LayerDirectoryIndexer(new RootedTreeWalker(nativeFiles, 1024, maxEntries),
                new NoFollowRootedFiles(nativeFiles), 4L << 30, maxEntries);
    }

    /** The identity of the image made of these layers: a digest of the ordered list of directories. */
    public static String identityOf(List<Path> lowerDirsTopFirst) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path dir : lowerDirsTopFirst) {
                sha.update(dir.toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return "lowerdirs:sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    public CompactImageIndex index(List<Path> lowerDirsTopFirst) throws IOException {
        List<String> layerIds = new ArrayList<>();
        for (Path dir : lowerDirsTopFirst) {
            layerIds.add(dir.toString());
        }
        long started = System.nanoTime();
        MergedImageBuilder builder = new MergedImageBuilder(identityOf(lowerDirsTopFirst), layerIds, maxEntries);
        try {
            for (int i = 0; i < lowerDirsTopFirst.size(); i++) {
                builder.beginLayer(i);
                walker.walk(lowerDirsTopFirst.get(i), entry -> feed(builder, entry));
                builder.endLayer();
            }
        } catch (IllegalStateException tooMany) {
            throw new IOException(tooMany.getMessage(), tooMany);
        }
        CompactImageIndex index = builder.build(this::hash);
        LOG.debug("indexed {} paths from {} layer directories in {} ms", index.size(), lowerDirsTopFirst.size(),
                (System.nanoTime() - started) / 1_000_000);
        return index;
    }

    private static void feed(MergedImageBuilder builder, TreeEntry entry) {
        if (entry.isWhiteout()) {
            builder.whiteout(entry.path());
            return;
        }
        FileFacts facts = entry.facts();
        builder.add(entry.path(), typeOf(facts.type()), facts.mode(), facts.size(), entry.linkTarget(), null);
        if (entry.opaque()) {
            builder.opaque(entry.path());
        }
    }

    static EntryType typeOf(FileFacts.Type type) {
        return switch (type) {
            case REGULAR -> EntryType.REGULAR;
            case DIRECTORY -> EntryType.DIRECTORY;
            case SYMLINK -> EntryType.SYMLINK;
            case CHAR_DEVICE -> EntryType.CHAR_DEVICE;
            case BLOCK_DEVICE -> EntryType.BLOCK_DEVICE;
            case FIFO -> EntryType.FIFO;
            case SOCKET, UNKNOWN -> EntryType.SOCKET;
        };
    }

    private String hash(String layer, String path) throws IOException {
        return files.sha256(Path.of(layer), path, maxHashedFileBytes)
                .orElseThrow(() -> new IOException("not a regular file within " + maxHashedFileBytes
                        + " bytes: " + path + " in layer " + layer));
    }
}
