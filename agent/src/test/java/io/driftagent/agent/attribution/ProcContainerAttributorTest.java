package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.host.DeviceNumber;
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
        long sharedTmpfs = DeviceNumber.makedev(0, 77);
        container(201, ID_A, "0:40", "0:77");
        container(202, ID_B, "0:41", "0:77");
        attributor.attribute(exec(201, cgroupId(ID_A), 0, 1)).orElseThrow();
        attributor.attribute(exec(202, cgroupId(ID_B), 0, 1)).orElseThrow();

        Optional<ContainerContext> byShared = attributor.attribute(exec(999, 0, 0, sharedTmpfs));
        Optional<ContainerContext> byOwnRoot = attributor.attribute(exec(999, 0, 0, DeviceNumber.makedev(0, 40)));

        assertThat(byShared).isEmpty();
        assertThat(byOwnRoot).map(c -> c.id().value()).contains(ID_A);
    }

    @Test
    void aGoneProcessWhoseSourceSaysItsOverlayDeviceDoesNotTellItsContainerIsNotAttributedByThatDevice()
            throws IOException {
        // given container A known with its root overlay on 0:40
        container(201, ID_A, "0:40");
        attributor.attribute(exec(201, cgroupId(ID_A), 0, 1)).orElseThrow();
        long rootOfA = DeviceNumber.makedev(0, 40);

        // when a gone process's exec on that device comes with the source's doubt (the device served several
        // overlays while the event waited)
        ExecEvent doubtful = new ExecEvent(999, 999, 1, 0, 0, 1, "x", "/tmp/x", new ExecEvent.FileId(rootOfA, 5),
                ExecEvent.FileId.NONE, 0, 0, new ExecEvent.Flags(true, true, false, false, true),
                ExecEvent.SourceKind.FANOTIFY, 1);

        // then it is not A's (not attributed), while the same exec without the doubt is
        assertThat(attributor.attribute(doubtful)).isEmpty();
        assertThat(attributor.attribute(exec(999, 0, 0, rootOfA))).map(c -> c.id().value()).contains(ID_A);
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

    @Test
    void aProcessInTheHostPid1sMountNamespaceIsTheHostsWhateverItsCgroupSays() throws IOException {
        // given: host pid 1's mount namespace, and host processes in cgroups that parse as containers' (the host of
        // this project keeps its shells in memory:/process_api/<hex>; runc's own execs pass through container cgroups)
        mountNamespace(1, 4026531841L);
        container(201, ID_A, "0:40");
        mountNamespace(201, 4026531841L);
        container(202, ID_B, "0:41");
        mountNamespace(202, 4026532999L);
        ProcContainerAttributor withHostReference = new ProcContainerAttributor(proc,
                new CgroupMounts(Optional.of(unified), Optional.empty()), resolver, new ContainerFilesystemsReader(proc, tmp),
                clock, Duration.ofSeconds(60), Duration.ofSeconds(5), forgotten::add);

        // when: the source reports the namespace (eBPF, fanotify), or does not and /proc tells
        Optional<ContainerContext> reported = withHostReference.attribute(exec(201, cgroupId(ID_A), 4026531841L, 1));
        Optional<ContainerContext> readFromProc = withHostReference.attribute(exec(201, 0, 0, 1));
        Optional<ContainerContext> aRealContainer = withHostReference.attribute(exec(202, cgroupId(ID_B), 4026532999L, 1));

        // then
        assertThat(reported).isEmpty();
        assertThat(readFromProc).isEmpty();
        assertThat(aRealContainer).map(c -> c.id().value()).contains(ID_B);
        assertThat(withHostReference.stats()).containsEntry("host_mount_ns", 2L).containsEntry("host", 2L);
    }

    @Test
    void wherePid1sNamespaceIsUnreadableKthreaddsInitialMountNamespaceIsTheHostsReference() throws IOException {
        Files.createDirectories(proc.resolve("1/ns")); // present, but no readable link (pid 1 has more capabilities)
        mountNamespace(2, 4026531832L);
        container(201, ID_A, "0:40");
        ProcContainerAttributor withKthreadd = new ProcContainerAttributor(proc,
                new CgroupMounts(Optional.of(unified), Optional.empty()), resolver, new ContainerFilesystemsReader(proc, tmp),
                clock, Duration.ofSeconds(60), Duration.ofSeconds(5), forgotten::add);

        assertThat(withKthreadd.attribute(exec(201, cgroupId(ID_A), 4026531832L, 1))).isEmpty();
        assertThat(withKthreadd.attribute(exec(201, cgroupId(ID_A), 4026532777L, 1))).isPresent();
    }

    @Test
    void inAPrivateCgroupNamespaceProcessesAreAttributedFromProcAsTheHostWouldAttributeThem() throws IOException {
        // given: the agent in a pod (docker --cgroupns=private) with no cgroup id from its source (fanotify)
        mountNamespace(1, 4026531841L);
        Path sibling = Files.createDirectories(proc.resolve("300"));
        Files.writeString(sibling.resolve("cgroup"), CgroupNamespaceViewTest.SIBLING_CONTAINER_IN_POD);
        Files.writeString(sibling.resolve("mountinfo"), "71 47 0:40 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u/fs,workdir=/u/w\n");
        mountNamespace(300, 4026532100L);
        Path hostShell = Files.createDirectories(proc.resolve("301"));
        Files.writeString(hostShell.resolve("cgroup"), CgroupNamespaceViewTest.HOST_SHELL_IN_POD);
        mountNamespace(301, 4026532200L); // even were it not in pid 1's namespace, its cgroup is the host's
        CgroupMounts mounts = CgroupMounts.fromMountInfo(CgroupNamespaceViewTest.POD_MOUNTINFO);
        ProcContainerAttributor inPod = new ProcContainerAttributor(proc, mounts,
                CgroupNamespaceView.rootedAt("/docker/c1c873337fbf599339cd7df0fb2a77f1ac6e136ff17b796f4102df8d990a58e1"),
                null, new ContainerFilesystemsReader(proc, tmp), clock, Duration.ofSeconds(60), Duration.ofSeconds(5),
                forgotten::add);

        Optional<ContainerContext> dockerSibling = inPod.attribute(exec(300, 0, 0, 1));
        Optional<ContainerContext> shell = inPod.attribute(exec(301, 0, 0, 1));

        assertThat(dockerSibling).map(c -> c.id().value())
                .contains("1c6568d42072ea7c10622f3cc24d845b1f5d4ff7ba8512204bbb5070e9c18440");
        assertThat(dockerSibling).map(ContainerContext::runtime).contains(ContainerRuntime.DOCKER);
        assertThat(shell).isEmpty();
    }

    private void mountNamespace(int pid, long inode) throws IOException {
        Path ns = Files.createDirectories(proc.resolve(pid + "/ns"));
        Files.deleteIfExists(ns.resolve("mnt"));
        Files.createSymbolicLink(ns.resolve("mnt"), Path.of("mnt:[" + inode + "]"));
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
