package io.driftagent.agent.image.bench;

import io.driftagent.agent.image.CompactImageIndex;
import io.driftagent.agent.image.LayerDirectoryIndexer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;

/**
 * Measures the retained heap of an image index built from the synthetic layers (used heap after full GCs, with
 * and without the index reachable) next to the index's own estimate, and the build rate in files per second.
 * Run: see docs/benchmarks.md ("Image index").
 */
public final class ImageIndexFootprint {

    private ImageIndexFootprint() {
    }

    public static void main(String[] args) throws Exception {
        SyntheticLayers layers = SyntheticLayers.create(1000, 100);
        try {
            LayerDirectoryIndexer indexer = LayerDirectoryIndexer.create();
            for (int i = 0; i < 3; i++) {
                indexer.index(layers.topFirst); // warm up
            }
            long best = Long.MAX_VALUE;
            long bestCpu = Long.MAX_VALUE;
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            for (int i = 0; i < 5; i++) {
                long cpu0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                indexer.index(layers.topFirst);
                best = Math.min(best, System.nanoTime() - t0);
                bestCpu = Math.min(bestCpu, threads.getCurrentThreadCpuTime() - cpu0);
            }
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            long before = settledUsedHeap(memory);
            CompactImageIndex index = indexer.index(layers.topFirst);
            long after = settledUsedHeap(memory);
            System.out.printf("files on disk: %d, indexed paths: %d%n", layers.files, index.size());
            System.out.printf("build (best of 5): wall %.1f ms = %.0f files/s; thread CPU (user+sys) %.1f ms = %.0f"
                    + " files/s%n", best / 1e6, layers.files / (best / 1e9), bestCpu / 1e6,
                    layers.files / (bestCpu / 1e9));
            System.out.printf("retained heap (GC-measured): %d bytes = %.1f bytes/path%n", after - before,
                    (double) (after - before) / index.size());
            System.out.printf("estimatedBytes(): %d bytes = %.1f bytes/path (no hashes computed yet)%n",
                    index.estimatedBytes(), (double) index.estimatedBytes() / index.size());
            if (index.lookup("/bin").isEmpty()) {
                throw new IllegalStateException("index lost /bin");
            }
        } finally {
            layers.delete();
        }
    }

    private static long settledUsedHeap(MemoryMXBean memory) throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
