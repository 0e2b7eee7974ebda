package io.driftagent.agent.proc;

import io.driftagent.agent.fixture.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The attributor against a /proc and a unified cgroup tree laid out in a temp dir. */
class ProcContainerAttributorTest {

    private static final String ID_A = "a".repeat(64);
    private static final String ID_B = "b".repeat(64);

    @TempDir
    Path tmp;
    private Path proc;
    private Path unified;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<ContainerContext> forgotten = new ArrayList<>();
    private CgroupIdResolver resolver;
    private ProcContainerAttributor attributor;

    @BeforeEach
    void layOutAHost() throws IOException {
        proc = Files.createDirectories(tmp.resolve("proc"));
        unified = Files.createDirectories(tmp.resolve("cgroup"));
        Files.createDirectories(unified.resolve("system.slice/cron.service"));
        resolver = new CgroupIdResolver(unified, clock, Duration.ofSeconds(2), 10_000);
        attributor = new ProcContainerAttributor(proc, new CgroupMounts(Optional.of(unified), Optional.empty()), resolver,
                new ContainerFilesystemsReader(proc, tmp), clock, Duration.ofSeconds(60), Duration.ofSeconds(5),
                forgotten::add);
    }

    @Test
    void aHostCgroupIsRememberedSoHostExecsCostNoRescan() throws IOException {
        long cron = inode(unified.resolve("system.slice/cron.service"));

        assertThat(attributor.attribute(exec(100, cron, 0, 1))).isEmpty();
        long scans = resolver.scans();
        clock.advance(Duration.ofSeconds(10));
        for (int i = 0; i < 100; i++) {
            assertThat(attributor.attribute(exec(100, cron, 0, 1))).isEmpty();
        }

        assertThat(resolver.scans()).isEqualTo(scans);
        assertThat(attributor.stats().get("host")).isEqualTo(101);
    }

    @Test
    void aDeviceSharedByTwoContainersDoesNotAttributeAGoneProcess() throws IOException {
        long sharedTmpfs = MountInfoParser.makedev(0, 77);
        container(201, ID_A, "0:40", "0:77");
        container(202, ID_B, "0:41", "0:77");
        attributor.attribute(exec(201, cgroupId(ID_A), 0, 1)).orElseThrow();
        attributor.attribute(exec(202, cgroupId(ID_B), 0, 1)).orElseThrow();

        Optional<ContainerContext> byShared = attributor.attribute(exec(999, 0, 0, sharedTmpfs));
        Optional<ContainerContext> byOwnRoot = attributor.attribute(exec(999, 0, 0, MountInfoParser.makedev(0, 40)));

        assertThat(byShared).isEmpty();
        assertThat(byOwnRoot).map(c -> c.id().value()).contains(ID_A);
    }

    @Test
    void aVanishedContainerStaysAttributableForTheGraceThenIsForgottenOnce() throws IOException {
        container(201, ID_A, "0:40");
        long id = cgroupId(ID_A);
        attributor.attribute(exec(201, id, 0, 1)).orElseThrow();

        Files.delete(unified.resolve("kubepods/pod11111111-2222-3333-4444-555555555555/" + ID_A));
        clock.advance(Duration.ofSeconds(6));
        Optional<ContainerContext> duringGrace = attributor.attribute(exec(201, id, 0, 1));
        clock.advance(Duration.ofSeconds(61));
        attributor.sweep();
        attributor.sweep();

        assertThat(duringGrace).map(c -> c.id().value()).contains(ID_A);
        assertThat(forgotten).extracting(c -> c.id().value()).containsExactly(ID_A);
        assertThat(attributor.isTracked(new ContainerId(ID_A))).isFalse();
    }

    @Test
    void aProcessThatIsNotInTheContainerItsCgroupIdNamesDoesNotLendItsMounts() throws IOException {
        container(201, ID_A, "0:40");
        Files.createDirectories(proc.resolve("300"));
        Files.writeString(proc.resolve("300/cgroup"), "0::/system.slice/cron.service\n"); // pid reused by a host process
        Files.writeString(proc.resolve("300/mountinfo"), "1 0 254:0 / / rw - ext4 /dev/vda rw\n");

        ContainerContext ctx = attributor.attribute(exec(300, cgroupId(ID_A), 0, 1)).orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(ID_A);
        assertThat(ctx.filesystems()).isNull();
    }

    @Test
    void aContainerFirstSeenThroughAGoneProcessGetsItsMountsFromAnotherLiveProcessOfItsCgroup() throws IOException {
        container(201, ID_A, "0:40");
        Files.writeString(unified.resolve("kubepods/pod11111111-2222-3333-4444-555555555555/" + ID_A + "/cgroup.procs"),
                "300\n201\n");

        ContainerContext ctx = attributor.attribute(exec(300, cgroupId(ID_A), 0, 1)).orElseThrow();

        assertThat(ctx.id().value()).isEqualTo(ID_A);
        assertThat(ctx.filesystems()).isNotNull();
        assertThat(ctx.filesystems().root()).isPresent();
    }

    private void container(int pid, String id, String rootDev, String... tmpfsDevs) throws IOException {
        String cgroup = "/kubepods/pod11111111-2222-3333-4444-555555555555/" + id;
        Files.createDirectories(unified.resolve(cgroup.substring(1)));
        Path p = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(p.resolve("cgroup"), "0::" + cgroup + "\n");
        StringBuilder mountInfo = new StringBuilder("71 47 " + rootDev + " / / rw - overlay overlay rw,lowerdir=/l/" + id
                + ",upperdir=/u/" + id + "/fs,workdir=/u/" + id + "/work\n");
        int mountId = 80;
        for (String dev : tmpfsDevs) {
            mountInfo.append(mountId++).append(" 71 ").append(dev).append(" / /shared rw - tmpfs tmpfs rw\n");
        }
        Files.writeString(p.resolve("mountinfo"), mountInfo.toString());
    }

    private long cgroupId(String id) throws IOException {
        return inode(unified.resolve("kubepods/pod11111111-2222-3333-4444-555555555555/" + id));
    }

    private static ExecEvent exec(int pid, long cgroupId, long mountNs, long dev) {
        return new ExecEvent(pid, pid, 1, 0, 0, 1, "x", "/bin/x", new ExecEvent.FileId(dev, 5), ExecEvent.FileId.NONE,
                cgroupId, mountNs, ExecEvent.Flags.NONE, ExecEvent.SourceKind.EBPF, 1);
    }

    private static long inode(Path dir) throws IOException {
        return ((Number) Files.getAttribute(dir, "unix:ino")).longValue();
    }

}
