package io.driftagent.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.image.IndexEntry.EntryType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SharedImageIndexProviderTest {

    private static final List<Path> IMAGE_A = List.of(Path.of("/snap/3/fs"), Path.of("/snap/2/fs"));
    private static final List<Path> IMAGE_B = List.of(Path.of("/snap/9/fs"));

    /** A builder that counts builds and makes each one take a while, so callers overlap. */
    private static final class CountingBuilder implements SharedImageIndexProvider.Builder {
        final AtomicInteger builds = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean fail;

        @Override
        public ImageIndex build(List<Path> lowerDirs) throws IOException {
            builds.incrementAndGet();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (fail) {
                throw new IOException("layer unreadable");
            }
            MergedImageBuilder b = new MergedImageBuilder(lowerDirs.toString(), List.of("l"), 10);
            b.beginLayer(0);
            b.add("/bin/sh", EntryType.REGULAR, 0755, 1, null, new byte[32]);
            b.endLayer();
            return b.build(ContentHasher.NONE);
        }
    }

    private static OverlayRoot container(List<Path> lowerDirs, String upper) {
        return new OverlayRoot(new ContainerMount(1, 1, "/", "/", "overlay", "overlay"), lowerDirs,
                Path.of(upper), Path.of(upper + "-work"));
    }

    @Test
    void concurrentContainersOfOneImageWaitForASingleBuildAndShareIt() throws Exception {
        CountingBuilder builder = new CountingBuilder();
        SharedImageIndexProvider provider = new SharedImageIndexProvider(builder);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ImageIndex>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                OverlayRoot root = container(IMAGE_A, "/upper/" + i);
                results.add(pool.submit(() -> provider.indexFor(root)));
            }
            Thread.sleep(200);
            builder.release.countDown();

            ImageIndex first = results.get(0).get(5, TimeUnit.SECONDS);
            for (Future<ImageIndex> result : results) {
                assertThat(result.get(5, TimeUnit.SECONDS)).isSameAs(first);
            }
            assertThat(builder.builds.get()).isEqualTo(1);
            assertThat(provider.containerCount(IMAGE_A)).isEqualTo(8);
            assertThat(provider.imageCount()).isEqualTo(1);
            assertThat(provider.totalBytes()).isEqualTo(first.estimatedBytes()).isPositive();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theIndexIsFreedWhenTheLastContainerOfItsImageGoes() throws Exception {
        CountingBuilder builder = new CountingBuilder();
        builder.release.countDown();
        SharedImageIndexProvider provider = new SharedImageIndexProvider(builder);
        OverlayRoot one = container(IMAGE_A, "/upper/1");
        OverlayRoot two = container(IMAGE_A, "/upper/2");
        OverlayRoot other = container(IMAGE_B, "/upper/3");

        provider.indexFor(one);
        provider.indexFor(one); // asking again holds no second reference
        provider.indexFor(two);
        provider.indexFor(other);
        provider.release(one);

        assertThat(provider.imageCount()).isEqualTo(2);
        provider.release(two);
        assertThat(provider.imageCount()).isEqualTo(1);
        assertThat(provider.containerCount(IMAGE_A)).isZero();
        provider.indexFor(two);
        assertThat(builder.builds.get()).isEqualTo(3);
    }

    @Test
    void aFailedBuildIsReportedAndRetriedNotCached() throws Exception {
        CountingBuilder builder = new CountingBuilder();
        builder.release.countDown();
        builder.fail = true;
        SharedImageIndexProvider provider = new SharedImageIndexProvider(builder);
        OverlayRoot root = container(IMAGE_A, "/upper/1");

        assertThatThrownBy(() -> provider.indexFor(root)).isInstanceOf(IOException.class)
                .hasMessageContaining("layer unreadable");
        assertThat(provider.imageCount()).isZero();
        builder.fail = false;
        assertThat(provider.indexFor(root).lookup("/bin/sh")).isPresent();
        assertThat(builder.builds.get()).isEqualTo(2);
    }
}
