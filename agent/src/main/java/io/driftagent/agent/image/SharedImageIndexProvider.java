package io.driftagent.agent.image;

import io.driftagent.agent.attribution.OverlayRoot;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One index per image, keyed by the ordered list of lower directories (containers of one image share their
 * snapshot layers, so they share the list), built once: concurrent callers for the same image wait for the single
 * build. Each container (told apart by its overlay upper directory) holds one reference however often it asks;
 * {@link #release} drops it and the index goes when its last container does. A failed build is not cached.
 */
public final class SharedImageIndexProvider implements ImageIndexProvider {

    private static final Logger LOG = LoggerFactory.getLogger(SharedImageIndexProvider.class);

    /** Builds the index of one image from its lower directories, top first. */
    @FunctionalInterface
    public interface Builder {
        ImageIndex build(List<Path> lowerDirsTopFirst) throws IOException;
    }

    private static final class Shared {
        final CompletableFuture<ImageIndex> index = new CompletableFuture<>();
        final Set<Path> containers = new HashSet<>();
    }

    private final Builder builder;
    private final Map<List<Path>, Shared> byImage = new HashMap<>();

    public SharedImageIndexProvider(Builder builder) {
        this.builder = Objects.requireNonNull(builder, "builder");
    }

    /** Indexes layer directories with {@link LayerDirectoryIndexer#create()}. */
    public static SharedImageIndexProvider fromLayerDirectories() {
        LayerDirectoryIndexer indexer = LayerDirectoryIndexer.create();
        return new SharedImageIndexProvider(indexer::index);
    }

    @Override
    public ImageIndex indexFor(OverlayRoot root) throws IOException {
        List<Path> key = root.lowerDirs();
        Shared shared;
        boolean mustBuild;
        synchronized (byImage) {
            shared = byImage.get(key);
            mustBuild = shared == null;
            if (mustBuild) {
                shared = new Shared();
                byImage.put(key, shared);
            }
            shared.containers.add(root.upperDir());
        }
        if (mustBuild) {
            try {
                shared.index.complete(builder.build(key));
            } catch (IOException | RuntimeException failed) {
                forget(key, shared);
                shared.index.completeExceptionally(failed);
                throw failed;
            }
        }
        try {
            return shared.index.get();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the index of " + key);
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause();
            if (cause instanceof IOException io) {
                throw new IOException("building the image index failed: " + io.getMessage(), io);
            }
            if (cause instanceof UncheckedIOException unchecked) {
                throw unchecked.getCause();
            }
            throw new IOException("building the image index failed", cause);
        }
    }

    private void forget(List<Path> key, Shared shared) {
        synchronized (byImage) {
            byImage.remove(key, shared);
        }
    }

    @Override
    public void release(OverlayRoot root) {
        synchronized (byImage) {
            Shared shared = byImage.get(root.lowerDirs());
            if (shared != null && shared.containers.remove(root.upperDir()) && shared.containers.isEmpty()) {
                byImage.remove(root.lowerDirs());
                LOG.debug("released the image index of {} layers", root.lowerDirs().size());
            }
        }
    }

    /** Images currently indexed (built or being built). */
    public int imageCount() {
        synchronized (byImage) {
            return byImage.size();
        }
    }

    /** Heap held by every built index ({@link ImageIndex#estimatedBytes()}). */
    public long totalBytes() {
        List<Shared> all;
        synchronized (byImage) {
            all = List.copyOf(byImage.values());
        }
        long total = 0;
        for (Shared shared : all) {
            if (shared.index.isDone() && !shared.index.isCompletedExceptionally()) {
                total += shared.index.join().estimatedBytes();
            }
        }
        return total;
    }

    /** Containers holding a reference to the image of these lower directories. */
    public int containerCount(List<Path> lowerDirsTopFirst) {
        synchronized (byImage) {
            Shared shared = byImage.get(lowerDirsTopFirst);
            return shared == null ? 0 : shared.containers.size();
        }
    }
}
