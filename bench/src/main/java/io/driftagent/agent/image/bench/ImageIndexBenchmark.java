package io.driftagent.agent.image.bench;

import io.driftagent.agent.image.CompactImageIndex;
import io.driftagent.agent.image.IndexEntry;
import io.driftagent.agent.image.LayerDirectoryIndexer;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Image index on a synthetic image of 100,000+ files in two layer directories: build from the layer directories
 * (statx per entry, getdents per directory, opaque-xattr check per directory) and lookups/resolves.
 * Files per second = {@link SyntheticLayers#files} / (ms per build) * 1000.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgs = {"-Xms1g", "-Xmx1g"})
public class ImageIndexBenchmark {

    private SyntheticLayers layers;
    private LayerDirectoryIndexer indexer;
    private CompactImageIndex index;
    private String[] hits;
    private char[][] freshHits;
    private String[] misses;
    private String[] viaUsrMerge;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        layers = SyntheticLayers.create(1000, 100);
        indexer = LayerDirectoryIndexer.create();
        index = indexer.index(layers.topFirst);
        System.out.printf("%nsynthetic image: %d files on disk, %d indexed paths, %.1f structure bytes/path%n",
                layers.files, index.size(), (double) index.structureBytes() / index.size());
        hits = new String[4096];
        freshHits = new char[hits.length][];
        misses = new String[hits.length];
        viaUsrMerge = new String[hits.length];
        for (int i = 0; i < hits.length; i++) {
            int d = (i * 7919) % 1000;
            if (d % 10 == 1 && d <= 191) {
                d++; // whited out in the top layer
            }
            hits[i] = "/usr/share/pkg-" + d + "/file-" + (i % 100) + ".dat";
            freshHits[i] = hits[i].toCharArray();
            misses[i] = "/usr/share/pkg-" + d + "/missing-" + i;
            viaUsrMerge[i] = "/bin/tool-" + (i % 500);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        layers.delete();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public CompactImageIndex buildFromLayerDirectories() throws Exception {
        return indexer.index(layers.topFirst);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Optional<IndexEntry> lookupHit() {
        return index.lookup(hits[next++ & 4095]);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Optional<IndexEntry> lookupHitFreshString() {
        return index.lookup(new String(freshHits[next++ & 4095]));
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Optional<IndexEntry> lookupMiss() {
        return index.lookup(misses[next++ & 4095]);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public Optional<IndexEntry> resolveThroughUsrMergeSymlink() {
        return index.resolve(viaUsrMerge[next++ & 4095]);
    }
}
