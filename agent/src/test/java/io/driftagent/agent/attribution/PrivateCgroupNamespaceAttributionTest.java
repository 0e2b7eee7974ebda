package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.host.MountInfoEntry;
import io.driftagent.agent.host.MountInfoParser;
import io.driftagent.agent.source.ExecEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attribution as the agent in the chart's pod sees the host, on real kernel output: a helper process is put in a
 * cgroup of its own ({@code /<parent>/agent} in every hierarchy, as runc puts a container) and enters a private
 * cgroup namespace ({@code unshare -C}, what containerd and {@code docker --cgroupns=private} do); what it reads of
 * its own mountinfo and of the /proc cgroup files of this JVM (a host process) and of a real containerd container
 * (a sibling at {@code /<parent>/<id>}, as Docker places containers next to each other) is what the agent reads in
 * the pod. The attributor reads those texts from a /proc laid out with them, and the real cgroup hierarchy.
 */
@Tag(TestTiers.CONTAINERS)
class PrivateCgroupNamespaceAttributionTest {

    private static final String IMAGE = "docker.io/drift-podview/busybox:test";

    @TempDir
    Path tmp;

    private final String parent = "drift-podview-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    private final String cid = ContainerdHost.randomContainerId();
    private final ContainerdHost containerd = new ContainerdHost("drift-podview");
    private final List<Path> hierarchies = new ArrayList<>();
    private Process helper;

    @AfterEach
    void cleanUp() throws InterruptedException {
        if (helper != null) {
            helper.destroyForcibly().waitFor();
        }
        containerd.removeAll();
        for (Path h : hierarchies) {
            HostCommands.quietly("rmdir", h.resolve(parent + "/agent").toString());
            HostCommands.quietly("rmdir", h.resolve(parent).toString());
        }
    }

    @Test
    void inAPrivateCgroupNamespaceAHostProcessIsTheHostsAndASiblingContainerIsThatContainer() throws Exception {
        // given: preconditions of a real run (fail, not skip, when root lacks them)
        assertThat(HostCommands.isRoot()).as("needs root").isTrue();
        assertThat(ContainerdHost.available()).as("containerd must run (scripts/host-setup.sh starts it)").isTrue();
        assertThat(BusyboxImage.available()).as("needs busybox-static at /bin/busybox").isTrue();
        assertThat(HostCommands.works("unshare", "--help")).as("needs util-linux unshare").isTrue();
        CgroupMounts onHost = CgroupMounts.fromMountInfo(Files.readString(Path.of("/proc/self/mountinfo")));
        assertThat(onHost.unified()).as("needs the cgroup v2 (unified) hierarchy").isPresent();
        hierarchies.addAll(cgroupHierarchies());

        // a real container next to where the "agent" will be, and the "agent" in a private cgroup namespace
        containerd.importBusybox(Files.createDirectories(tmp.resolve("image")), IMAGE);
        int containerPid = containerd.run(IMAGE, cid, "--cgroup", "/" + parent + "/" + cid);
        long jvmPid = ProcessHandle.current().pid();
        Path captured = Files.createDirectories(tmp.resolve("captured"));
        helper = startAgentStandIn(captured, jvmPid, containerPid);

        // the /proc the agent reads, with the texts the kernel showed inside the namespace
        Path proc = Files.createDirectories(tmp.resolve("proc"));
        for (int hostReference : List.of(1, 2)) { // pid 1's links are unreadable where it has more capabilities
            if (Files.isReadable(Path.of("/proc/" + hostReference + "/ns/mnt"))
                    && HostCommands.works("readlink", "/proc/" + hostReference + "/ns/mnt")) {
                copyNamespaceLink(hostReference, proc);
            }
        }
        assertThat(Files.exists(proc.resolve("1/ns/mnt"), java.nio.file.LinkOption.NOFOLLOW_LINKS)
                || Files.exists(proc.resolve("2/ns/mnt"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
                .as("the mount namespace of pid 1 or 2 is readable").isTrue();
        layOut(proc, (int) jvmPid, Files.readString(captured.resolve("host.cgroup")));
        layOut(proc, containerPid, Files.readString(captured.resolve("container.cgroup")));
        Files.copy(Path.of("/proc/" + containerPid + "/mountinfo"), proc.resolve(containerPid + "/mountinfo"));

        // when: the agent's start-up, then two execs reported without a cgroup id (fanotify) and one with (eBPF)
        CgroupMounts inPod = CgroupMounts.fromMountInfo(Files.readString(captured.resolve("self.mountinfo")));
        CgroupNamespaceView view = CgroupNamespaceView.discover(inPod, helper.pid());
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        CgroupIdResolver ids = new CgroupIdResolver(inPod.unified().orElseThrow(), clock, Duration.ofSeconds(2), 200_000);
        ProcContainerAttributor attributor = new ProcContainerAttributor(proc, inPod, view, ids,
                new ContainerFilesystemsReader(proc, Path.of("/")), clock, Duration.ofSeconds(60), Duration.ofSeconds(5),
                c -> { });
        Optional<ContainerContext> hostExec = attributor.attribute(exec((int) jvmPid, 0));
        Optional<ContainerContext> containerExec = attributor.attribute(exec(containerPid, 0));
        long containerCgroupId = ((Number) Files.getAttribute(
                inPod.unified().orElseThrow().resolve(parent + "/" + cid), "unix:ino")).longValue();
        Optional<ContainerContext> containerExecById = attributor.attribute(exec(containerPid, containerCgroupId));

        // then
        assertThat(Files.readString(captured.resolve("container.cgroup"))).as("the kernel's view from the namespace")
                .contains("0::/../" + cid);
        assertThat(inPod.namespaceDepth()).isEqualTo(2);
        assertThat(inPod.unified()).isEqualTo(onHost.unified());
        assertThat(view.toHostPath("/")).isEqualTo("/" + parent + "/agent");
        assertThat(hostExec).isEmpty();
        assertThat(containerExec).map(c -> c.id().value()).contains(cid);
        assertThat(containerExec).map(ContainerContext::cgroupPath).contains("/" + parent + "/" + cid);
        assertThat(containerExec.orElseThrow().filesystems().root()).as("its overlay root read").isPresent();
        assertThat(containerExecById).map(c -> c.id().value()).contains(cid);
    }

    /** Moves a shell into /<parent>/agent of every hierarchy, unshares its cgroup namespace and captures. */
    private Process startAgentStandIn(Path out, long hostPid, int containerPid) throws IOException {
        StringBuilder join = new StringBuilder();
        for (Path h : hierarchies) {
            String dir = h.resolve(parent + "/agent").toString();
            join.append("mkdir -p ").append(dir).append(" && ");
            if (Files.exists(h.resolve("cpuset.cpus"))) { // a v1 cpuset cgroup takes no task before it has cpus
                for (String file : List.of("cpuset.cpus", "cpuset.mems")) {
                    join.append("cat ").append(h.resolve(file)).append(" > ").append(h.resolve(parent + "/" + file))
                            .append(" && cat ").append(h.resolve(file)).append(" > ").append(dir + "/" + file).append(" && ");
                }
            }
            join.append("echo $$ > ").append(dir).append("/cgroup.procs && ");
        }
        String inside = "cat /proc/self/mountinfo > " + out.resolve("self.mountinfo")
                + " && cat /proc/" + hostPid + "/cgroup > " + out.resolve("host.cgroup")
                + " && cat /proc/" + containerPid + "/cgroup > " + out.resolve("container.cgroup")
                + " && echo READY && exec sleep 60";
        Process p = new ProcessBuilder("/bin/sh", "-c", join + "exec unshare --cgroup /bin/sh -c '" + inside + "'")
                .redirectErrorStream(true).start();
        BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder said = new StringBuilder();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.equals("READY")) {
                return p;
            }
            said.append(line).append('\n');
        }
        throw new IllegalStateException("the stand-in for the agent did not start: " + said);
    }

    private static List<Path> cgroupHierarchies() throws IOException {
        List<Path> found = new ArrayList<>();
        for (MountInfoEntry e : new MountInfoParser().parse(Files.readString(Path.of("/proc/self/mountinfo")))) {
            if ((e.fsType().equals("cgroup") || e.fsType().equals("cgroup2")) && e.root().equals("/")) {
                found.add(Path.of(e.mountPoint()));
            }
        }
        return found;
    }

    private static void layOut(Path proc, int pid, String cgroupText) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("cgroup"), cgroupText);
        copyNamespaceLink(pid, proc);
    }

    private static void copyNamespaceLink(int pid, Path proc) throws IOException {
        Path ns = Files.createDirectories(proc.resolve(pid + "/ns"));
        Files.createSymbolicLink(ns.resolve("mnt"), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/mnt")));
    }

    private static ExecEvent exec(int pid, long cgroupId) {
        return new ExecEvent(pid, pid, 1, 0, 0, 1, "sh", "/bin/sh", new ExecEvent.FileId(1, 5), ExecEvent.FileId.NONE,
                cgroupId, 0, ExecEvent.Flags.NONE, ExecEvent.SourceKind.FANOTIFY, 1);
    }
}
