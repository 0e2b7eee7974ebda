package io.driftagent.agent.bench;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerFilesystemsReader;
import io.driftagent.agent.attribution.ProcContainerAttributor;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.OverlayDriftClassifier;
import io.driftagent.agent.fs.FakeNioRootedFiles;
import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.image.FakeLayerDirsImageIndexProvider;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
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
 * Hot paths of drift resolution: attribution of an exec to a known container by cgroup id, classification of an
 * image exec (kernel flag, no file read), and of repeated execs of an added and a modified upper-layer file (hash
 * cache hit; the stat walk through the upper layer remains). The container is a directory tree laid out like a
 * containerd overlay (layers, upper), with a /proc stand-in for its process; file access uses the test RootedFiles
 * (java.nio, NOFOLLOW) and the test layer-directory index.
 *
 * Run: {@code java -jar bench/target/drift-bench.jar AttributionClassificationBench} (docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AttributionClassificationBench {

    private static final int PID = 4242;
    private static final long CGROUP_ID = 987_654L;
    private static final long OVERLAY_DEV = 39L; // 0:39, as in the mountinfo below

    private Path dir;
    private ProcContainerAttributor attributor;
    private OverlayDriftClassifier classifier;
    private ContainerContext container;
    private ExecEvent imageExec;
    private ExecEvent addedExec;
    private ExecEvent modifiedExec;

    @Setup(Level.Trial)
    public void layOutAContainer() throws IOException {
        dir = Files.createTempDirectory("drift-bench");
        Path snapshots = dir.resolve("var/lib/containerd/snapshots");
        Path lower = Files.createDirectories(snapshots.resolve("1/fs/usr/bin")).getParent().getParent();
        Path upper = Files.createDirectories(snapshots.resolve("2/fs/usr/bin")).getParent().getParent();
        Files.createDirectories(snapshots.resolve("2/work"));
        Files.createDirectories(lower.resolve("tmp"));
        Files.createDirectories(upper.resolve("tmp"));
        byte[] binary = new byte[1 << 20];
        java.util.Arrays.fill(binary, (byte) 7);
        Files.write(lower.resolve("usr/bin/tool"), binary);
        binary[0] = 9;
        Files.write(upper.resolve("usr/bin/tool"), binary); // a modified copy
        Files.write(upper.resolve("tmp/dropped"), binary); // an added file

        String id = "4f1b3a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
        Path proc = Files.createDirectories(dir.resolve("proc/" + PID));
        Files.createDirectories(proc.resolve("ns"));
        Files.writeString(proc.resolve("cgroup"), "0::/kubepods/besteffort/pod0b7c3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/" + id + "\n");
        Files.writeString(proc.resolve("mountinfo"), "71 47 0:39 / / rw,relatime - overlay overlay rw,"
                + "lowerdir=/var/lib/containerd/snapshots/1/fs,upperdir=/var/lib/containerd/snapshots/2/fs,"
                + "workdir=/var/lib/containerd/snapshots/2/work\n"
                + "75 71 0:45 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k\n");
        Files.createSymbolicLink(proc.resolve("ns/mnt"), Path.of("mnt:[4026532000]"));

        Path procRoot = dir.resolve("proc");
        attributor = new ProcContainerAttributor(procRoot, new CgroupMounts(Optional.empty(), Optional.empty()), null,
                new ContainerFilesystemsReader(procRoot, dir), Clock.systemUTC(), Duration.ofSeconds(60),
                Duration.ofSeconds(5), c -> { });
        classifier = new OverlayDriftClassifier(new FakeNioRootedFiles(), new FakeLayerDirsImageIndexProvider(), procRoot);
        imageExec = exec("/usr/bin/tool", false);
        container = attributor.attribute(imageExec).orElseThrow();
        addedExec = exec("/tmp/dropped", true);
        modifiedExec = exec("/usr/bin/tool", true);
        expect(DriftKind.ADDED, classifier.classify(addedExec, container));
        expect(DriftKind.MODIFIED, classifier.classify(modifiedExec, container));
        expect(DriftKind.IMAGE, classifier.classify(imageExec, container));
    }

    @TearDown(Level.Trial)
    public void removeTheTree() throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public Optional<ContainerContext> attributeByCgroupIdCacheHit() {
        return attributor.attribute(imageExec);
    }

    @Benchmark
    public Classification classifyImageExecByKernelFlag() {
        return classifier.classify(imageExec, container);
    }

    @Benchmark
    public Classification classifyAddedExecCachedHash() {
        return classifier.classify(addedExec, container);
    }

    @Benchmark
    public Classification classifyModifiedExecCachedHash() {
        return classifier.classify(modifiedExec, container);
    }

    private static ExecEvent exec(String path, boolean upper) {
        return new ExecEvent(PID, PID, 1, 0, 0, 1, "x", path, new ExecEvent.FileId(OVERLAY_DEV, 1234),
                ExecEvent.FileId.NONE, CGROUP_ID, 4026532000L, new ExecEvent.Flags(true, upper, false, false),
                ExecEvent.SourceKind.EBPF, 1);
    }

    private static void expect(DriftKind kind, Classification c) {
        if (c.kind() != kind) {
            throw new IllegalStateException("set-up broken: expected " + kind + ", got " + c);
        }
    }
}
